/** The embedded arith lineage: a real specialist/ancestor transformer pair, run in-process on CPU. */
export { loadArithLineage, DEFAULT_LINEAGE_DIR, SPECIALIST_ID, ANCESTOR_ID, type ArithLineage } from './loadArithLineage.js';
export { LineageModel, type LineageModelOptions } from './lineageModel.js';
export { ContextLengthError } from './contextLengthError.js';
export { CharTokenizer } from './charTokenizer.js';
export type { FullDistribution } from './distribution.js';
export { arithProblem, arithProblems, arithAnswer, gradeArith, type ArithProblem, type ArithOp } from './arithProblems.js';
