/**
 * Text that is safe to print to a terminal: control characters (C0 but tab and line feed, DEL,
 * C1 — so no ANSI escape sequence, carriage return or backspace can repaint the screen) and the
 * bidirectional-override characters (U+202A–U+202E, U+2066–U+2069) are shown as `\xNN` / `\uNNNN`
 * instead of acting. Everything a command prints goes through this, since cell names, test names
 * and paths come from the user's data.
 *
 * @example terminalSafe('cell\x1b[2J') // 'cell\\x1b[2J'
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
