// Types of build-wasm.mjs for the test that checks the committed bytes.
export declare function compileWeights(): Promise<string>;
