/**
 * Secrets out of every artifact. Server text (error bodies, echoed headers) enters the program
 * in a few places — postJson's error messages, response validation, tokenizer answers — and
 * from there could reach row errors, notes, promptfoo's database, the rollout cache and every
 * report. `redactSecrets` is applied where that text enters (every EndpointError message) and
 * again where the provider writes text out, so a proxy that echoes `Authorization: Bearer sk-…`
 * into its 401 body leaves no key anywhere.
 *
 * Two layers: the literal values this process was given as secrets (an API key read from
 * `apiKeyEnv`, secret-looking header values), in the forms a server might echo them (as is,
 * URL-encoded, JSON-escaped, base64); and credential shapes whatever the value (`Bearer …`,
 * `Authorization: …`, `api-key: …`, `x-api-key=…`, `sk-…`, in JSON- or Python-quoted forms).
 */

export const REDACTED = '[REDACTED]';

const secrets = new Set<string>();

/** Header names whose values are credentials. */
export const SECRET_HEADER = /auth|api[-_]?key|token|secret|cookie|session|passw/i;

/**
 * Remembers a secret value for the life of the process, so `redactSecrets` removes it from any
 * text. Values shorter than 6 characters are ignored (they would redact ordinary words).
 */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 6) return;
  const forms = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')];
  for (const form of forms) if (form.length >= 6) secrets.add(form);
}

// `name: value` / `"name": "value"` / `'name': 'value'` / `name=value`, also inside JSON that
// was itself put in a JSON string (`\"authorization\": \"Bearer …\"`). The value may be a
// scheme and a token (`Bearer sk-…`).
const QUOTE = `(?:\\\\?["'])?`;
const HEADER_FORM = new RegExp(
  `((?:proxy-)?authorization|x-api-key|api[-_]?key|x-auth-token|access[-_]?token|set-cookie|cookie)(${QUOTE}\\s*[:=]\\s*${QUOTE})` +
    // not a value already redacted (registered secrets go first)
    `(?!(?:(?:bearer|basic|token)\\s+)?\\[REDACTED\\])((?:(?:bearer|basic|token)\\s+)?[^\\s"'\\\\,;&}\\]]+)`,
  'gi',
);
const SCHEME_FORM = /\b(bearer|basic)(\s+|%20)[A-Za-z0-9._~+/=:-]{4,}/gi;
const OPENAI_STYLE_KEY = /\bsk-[A-Za-z0-9_-]{8,}/g;

/** The text with every registered secret and every credential-shaped value replaced by [REDACTED]. */
export function redactSecrets(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out
    .replace(HEADER_FORM, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(SCHEME_FORM, (_m, scheme: string, gap: string) => `${scheme}${gap}${REDACTED}`)
    .replace(OPENAI_STYLE_KEY, REDACTED);
}
