export function makeExamples(root?: string): Promise<void>;
