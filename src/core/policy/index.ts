/** Measure, then route: the probe record's consumers — policy learning, choice and application. Pure. */
export * from '../contracts/probeRecord.js';
export * from './signals.js';
export * from './confusionMatrix.js';
export * from './balancedAccuracy.js';
export * from './cohenKappa.js';
export * from './bootstrapInterval.js';
export * from './crossValidation.js';
export * from './decisionTree.js';
export * from './policyTree.js';
export * from './regimeTree.js';
export * from './paperRule.js';
export * from './policySchema.js';
export * from './calibratePolicy.js';
export * from './applyPolicy.js';
