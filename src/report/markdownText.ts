import { terminalSafe } from './terminalText.js';

const ZWSP = '&#8203;';

/**
 * Untrusted text (test names, model output, error messages, paths) for GitHub-flavoured Markdown —
 * a PR comment or a job summary — so that it renders as itself and does nothing else:
 * - one line (white space collapsed), shortened to `max` characters before escaping;
 * - control and bidi-override characters shown as `\xNN` / `\uNNNN`;
 * - `&`, `<`, `>` as entities (no HTML, no entity tricks, no `<javascript:…>` autolink);
 * - every Markdown punctuation that can start a construct backslash-escaped: `\ \` * _ ~ [ ] | $`
 *   (no links or images `![](…)`, no code spans, emphasis, tables, math), and `# > + - =` or
 *   `1.` at the start (no heading, quote or list when the text opens a line);
 * - a zero-width space after `@` (no `@everyone` / `@org/team` mention, no e-mail autolink),
 *   after `#` before a digit (no issue reference), in `://` and `www.` (no autolinked URL).
 *
 * @example mdText('@everyone ![x](javascript:alert(1))') // '@&#8203;everyone !\\[x\\](javascript:alert(1))'
 */
export function mdText(text: string, max = Infinity): string {
  let s = terminalSafe(String(text)).replace(/\s+/g, ' ').trim();
  if (s.length > max) s = `${s.slice(0, Math.max(0, max - 1))}…`;
  // NUL cannot survive terminalSafe, so it marks where the zero-width spaces go.
  s = s
    .replace(/[\\`*_~[\]|$]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^([#+\-=])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2')
    .replace(/@/g, '@\u0000')
    .replace(/#(?=\d)/g, '#\u0000')
    .replace(/:\/\//g, ':\u0000//')
    .replace(/\b(www)\./gi, '$1\u0000.')
    .replace(/\u0000/g, ZWSP);
  return s;
}
