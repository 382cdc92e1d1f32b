import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderYaml } from '../../../src/cli/init/renderYaml.js';

describe('renderYaml: untouched parts keep their spelling', () => {
  it('an unedited document comes back byte for byte, mixed flow padding and comments included', () => {
    const text = `# top
a: [1, 3, 5, 10] # unpadded
b: { x: 1, y: [ 2 ] }
c: {z: 'q'}
d:
  - "double"
  - 'single'
`;
    expect(renderYaml(parseDocument(text), text)).toBe(text);
  });

  it('after an edit, only the edit shows', () => {
    const text = 'a: [1, 3]\nb: {c: 1}\n';
    const doc = parseDocument(text);
    doc.set('e', doc.createNode({ f: 1 }, { flow: true }));
    expect(renderYaml(doc, text)).toBe('a: [1, 3]\nb: {c: 1}\ne: {f: 1}\n'); // new flow maps follow the file's (unpadded) habit
  });
});
