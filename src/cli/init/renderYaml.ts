import { Document, isCollection, parseDocument, visit } from 'yaml';

/**
 * Writes an edited YAML document back with as little change to untouched parts as the yaml
 * package allows: comments and quoting are kept by its Document API; one-line flow collections
 * (`[1, 3]`, `{a: 1}`) are written with the padding the file mostly uses, and each untouched
 * one gets back its exact original spelling.
 */
export function renderYaml(doc: Document, original: string): string {
  const source = parseDocument(original);
  const oneLine: string[] = [];
  visit(source, {
    Collection(_, node) {
      if (!node.flow || !node.range) return;
      const text = original.slice(node.range[0], node.range[1]);
      if (!text.includes('\n')) oneLine.push(text);
    },
  });
  const padded = oneLine.filter((t) => /^[[{] /.test(t) || t === '[]' || t === '{}').length * 2 >= oneLine.length;
  const options = { lineWidth: 0, flowCollectionPadding: padded };
  const swaps = new Map<string, string>();
  visit(source, {
    Collection(_, node) {
      if (!node.flow || !node.range || !isCollection(node)) return;
      const text = original.slice(node.range[0], node.range[1]);
      if (text.includes('\n')) return;
      const bare = node.clone();
      bare.comment = bare.commentBefore = undefined;
      const rendered = new Document(bare).toString(options).trim();
      if (rendered !== text) swaps.set(rendered, text);
    },
  });
  let out = doc.toString(options);
  for (const [rendered, text] of [...swaps].sort((a, b) => b[0].length - a[0].length)) out = out.split(rendered).join(text);
  return out;
}
