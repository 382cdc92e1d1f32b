export * from './validate.js';
export * from './operators.js';
export * from './tokenStep.js';
export * from './rollout.js';
export * from './problemRecord.js';
export * from './featureRow.js';
