/** promptfoo-recoverability: the pure core plus file adapters. */
export * from './core/index.js';
export { loadProblemRecords, parseFeatureTableCsv } from './io/loadProblemRecords.js';
export { InputError } from './io/inputError.js';
export { RolloutProvider } from './promptfoo/rolloutProvider.js';
export { gradeRollouts } from './promptfoo/gradeRollouts.js';
