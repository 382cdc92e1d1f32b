/** promptfoo-recoverability: the pure core plus file adapters. */
export * from './core/index.js';
export { loadProblemRecords, parseFeatureTableCsv } from './io/loadProblemRecords.js';
export { InputError } from './io/inputError.js';
export { RolloutProvider } from './promptfoo/rolloutProvider.js';
export { gradeRollouts } from './promptfoo/gradeRollouts.js';
export { arithProblems, gradeArith, loadArithLineage } from './lineage/index.js';
export { OpenAICompatibleModel } from './http/openAiCompatibleModel.js';
export { startVllmServer } from './http/vllmServer.js';
