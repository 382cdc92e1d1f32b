import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndpointHttpError } from '../../src/http/endpointErrors.js';
import { serverMessage } from '../../src/http/postJson.js';
import { REDACTED, redactSecrets, registerSecret } from '../../src/http/redact.js';

describe('redactSecrets', () => {
  it('removes credential-shaped values whatever the key, in the forms servers and proxies echo them', () => {
    const cases: [string, string][] = [
      ['Authorization: Bearer abc.def-123', `Authorization: ${REDACTED}`],
      ['{"authorization": "Bearer xyz987654"}', `{"authorization": "${REDACTED}"}`],
      ["{'Authorization': 'Bearer xyz987654', 'host': 'h'}", `{'Authorization': '${REDACTED}', 'host': 'h'}`],
      ['{\\"authorization\\":\\"Bearer xyz987654\\"}', `{\\"authorization\\":\\"${REDACTED}\\"}`], // JSON inside a JSON string
      ['api-key: 0123456789', `api-key: ${REDACTED}`],
      ['x-api-key=0123456789&y=1', `x-api-key=${REDACTED}&y=1`],
      ['"api_key":"0123456789"', `"api_key":"${REDACTED}"`],
      ['proxy-authorization: Basic dXNlcjpwYXNz', `proxy-authorization: ${REDACTED}`],
      ['cookie: session=abcdef; path=/', `cookie: ${REDACTED}; path=/`],
      ['sent Bearer%20tok_abcdef123 upstream', `sent Bearer%20${REDACTED} upstream`],
      ['key sk-proj-ABCdef0123456789 rejected', `key ${REDACTED} rejected`],
      ['The model `m` does not exist.', 'The model `m` does not exist.'],
      ['token usage: 12 prompt tokens', 'token usage: 12 prompt tokens'],
    ];
    for (const [input, expected] of cases) expect(redactSecrets(input), input).toBe(expected);
  });

  it('removes a registered secret in every form, wherever it appears', () => {
    const key = 'hunter2-Zq!9/x+y=';
    registerSecret(key);
    for (const form of [key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1), Buffer.from(key).toString('base64')]) {
      expect(redactSecrets(`before ${form} after`)).toBe(`before ${REDACTED} after`);
    }
    expect(redactSecrets(`x-custom: ${key}`)).toBe(`x-custom: ${REDACTED}`);
  });

  it('property: a registered key never survives, whatever surrounds it and whichever header carries it', () => {
    const keyChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=!$%&*'.split(''));
    fc.assert(
      fc.property(
        fc.array(keyChars, { minLength: 8, maxLength: 40 }).map((cs) => cs.join('')),
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 30 }),
        fc.constantFrom('plain', 'header', 'json', 'python', 'escaped-json', 'bearer'),
        (key, before, after, shape) => {
          registerSecret(key);
          const carried = {
            plain: key,
            header: `Authorization: Bearer ${key}`,
            json: JSON.stringify({ authorization: `Bearer ${key}` }),
            python: `{'x-api-key': '${key}'}`,
            'escaped-json': JSON.stringify(JSON.stringify({ 'api-key': key })),
            bearer: `Bearer ${key}`,
          }[shape];
          expect(redactSecrets(`${before}${carried}${after}`)).not.toContain(key);
        },
      ),
      { seed: 12, numRuns: 300 },
    );
  });

  it('errors redact when made, and a server message is redacted before it is cut short', () => {
    registerSecret('tail-secret-0123456789');
    const long = `${'x'.repeat(190)}tail-secret-0123456789`; // a cut at 200 characters would leave "tail-secre"
    expect(serverMessage(long)).not.toContain('tail-secre');
    const err = new EndpointHttpError('HTTP 401: Authorization: Bearer abcdef123456', 'http://h/v1', 1, 401);
    expect(err.message).toBe(`HTTP 401: Authorization: ${REDACTED}`);
    expect(err.addDetail('(key tail-secret-0123456789)').message).not.toContain('tail-secret');
  });
});
