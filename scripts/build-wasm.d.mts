// Types of build-wasm.mjs for the tests that check the committed bytes.
export const WAT_PATH: string;
export const BINARY_MODULE_PATH: string;
export function compileKernels(wat: string): Promise<Uint8Array>;
export function kernelsModuleSource(bytes: Uint8Array): string;
export function compileWeights(): Promise<string>;
export function compileJsonSkip(): Promise<string>;
