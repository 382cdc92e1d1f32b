/**
 * The final answer of a reasoning trace: the text after the last "Answer:" (case-insensitive)
 * up to the end of its line, trimmed; when there is none, the last number in the text; else null.
 *
 * @example extractAnswer('Step 1: 2 + 2 = 4\nAnswer: 4') // '4'
 */
export function extractAnswer(text: string): string | null {
  const marked = [...text.matchAll(/answer\s*[:：]\s*([^\n]*)/gi)];
  const last = marked.at(-1)?.[1]?.trim();
  if (last) return last;
  const numbers = text.match(/-?\d+(?:\.\d+)?/g);
  return numbers ? numbers.at(-1)! : null;
}
