#!/usr/bin/env node
// Reads promptfoo outputs as the gate (or the report) reads them, and prints the milliseconds it
// took: the reading part of `recoverability gate`, timed alone (reportGate.mjs runs it).
//   node scripts/bench/readOutputs.mjs gate|report out1.jsonl [out2.jsonl …]
import { fileURLToPath } from 'node:url';

const { loadEvalOutputs } = await import(fileURLToPath(new URL('../../dist/io/loadEvalOutput.js', import.meta.url)));
const [purpose, ...paths] = process.argv.slice(2);
const t0 = performance.now();
await loadEvalOutputs(paths, { purpose });
console.log(Math.round(performance.now() - t0));
