import { type Document, isMap, isScalar, isSeq, type Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { InputError } from '../../io/inputError.js';
import { PACKAGE_NAME } from './hooksPath.js';

export const PROVIDER_ID = `package:${PACKAGE_NAME}:RolloutProvider`;
export const ASSERTION_VALUE = `package:${PACKAGE_NAME}:gradeRollouts`;

/** The comments init writes above what it adds; also how a second run recognizes its own work. */
export const COMMENTS = {
  provider: ' recoverability: K rollouts per test from the provider below, each graded on its own',
  assertion: ' recoverability: grade every rollout; pass@k, features, regime and route per test',
  extensions: ' recoverability: row columns (regime, route) and the eval-wide report',
};

export interface InitPlan {
  /** Rollouts per test for every wrapped provider. */
  samples: number;
  /** hooks.js relative to the config's folder (see hooksPath). */
  hooks: string;
  /** The gradeRollouts grader; null keeps the assertion's default (equals on the var "answer"). */
  grader: Record<string, unknown> | null;
}

/** A provider init wrapped: its id and config as they were (for the endpoint hint). */
export interface WrappedProvider {
  id: string;
  config: Record<string, unknown>;
}

export interface InitChanges {
  /** One line per change, for the user. */
  changes: string[];
  wrapped: WrappedProvider[];
  warnings: string[];
}

const isOurProvider = (id: unknown) => typeof id === 'string' && (id === PROVIDER_ID || /rolloutProvider\.[cm]?[jt]s$/.test(id));
const isOurHook = (s: string, which: string) => new RegExp(`(^|/)hooks\\.[cm]?[jt]s:${which}$`).test(s) && s.includes('file://');
const plain = (n: unknown) => (isScalar(n) ? n.value : n);

/**
 * Adds promptfoo-recoverability to a parsed promptfoo config, in place, keeping every comment
 * and the layout of what it does not touch:
 * - each provider is wrapped: `{id: RolloutProvider, label: <its label or id>, config:
 *   {specialist: {type: provider, id, config}, samples}}`, the rest of its options (prompts,
 *   transform, delay, …) staying on the wrapper;
 * - `defaultTest.assert` gets the gradeRollouts assertion with the planned grader;
 * - `extensions` gets hooks.js `:afterEach` and `:afterAll` at the planned path (entries of ours
 *   at another path are corrected).
 * What is already there is left alone, so a second run changes nothing.
 */
export function addRecoverability(doc: Document, plan: InitPlan): InitChanges {
  if (!isMap(doc.contents)) throw new InputError('the config is not a YAML mapping (expected keys such as prompts:, providers:, tests:)');
  const result: InitChanges = { changes: [], wrapped: [], warnings: [] };
  wrapProviders(doc, plan, result);
  addAssertion(doc, plan, result);
  addHooks(doc, plan, result);
  return result;
}

function wrapProviders(doc: Document, plan: InitPlan, result: InitChanges): void {
  const root = doc.contents as YAMLMap;
  const key = root.has('providers') ? 'providers' : root.has('targets') ? 'targets' : null;
  if (key === null) throw new InputError('the config has no providers: add the provider you evaluate (e.g. providers: [openai:chat:gpt-4o-mini]) and run init again');
  let list = root.get(key, true) as Node | undefined;
  if (isScalar(list) && typeof list.value === 'string') {
    const seq = new YAMLSeq();
    seq.items.push(list);
    root.set(key, seq);
    list = seq;
  }
  if (!isSeq(list)) throw new InputError(`${key}: expected a list of providers, got ${list === undefined || list === null ? 'nothing' : 'a mapping'}`);
  list.items = list.items.map((item, index) => {
    const wrapped = wrapOne(doc, item as Node, plan, `${key}[${index}]`, result);
    return wrapped ?? item;
  });
}

function wrapOne(doc: Document, item: Node, plan: InitPlan, where: string, result: InitChanges): YAMLMap | null {
  let options: YAMLMap;
  if (isScalar(item) && typeof item.value === 'string') {
    if (isOurProvider(item.value)) return null;
    if (/^file:\/\/.*\.(ya?ml|json)$/i.test(item.value)) {
      result.warnings.push(`${where}: ${item.value} is a file of providers; init does not edit it — wrap those providers there (see README) or list them here`);
      return null;
    }
    options = new YAMLMap();
    options.add(new Pair(new Scalar('id'), item));
    options.commentBefore = item.commentBefore;
    options.comment = item.comment;
    item.commentBefore = undefined;
    item.comment = undefined;
  } else if (isMap(item)) {
    options = item;
    if (!options.has('id') && options.items.length === 1) {
      // The map form `- openai:chat:gpt-4o: {config: …}`: its one key is the id.
      const [pair] = options.items as Pair<Node, Node>[];
      const inner = isMap(pair!.value) ? pair!.value : new YAMLMap();
      const id = isScalar(pair!.key) ? pair!.key : new Scalar(String(plain(pair!.key)));
      inner.items.unshift(new Pair(new Scalar('id'), id));
      inner.commentBefore = options.commentBefore;
      options = inner;
    }
    if (isOurProvider(plain(options.get('id', true)))) return null;
  } else {
    result.warnings.push(`${where}: not a provider id or mapping; left as it is`);
    return null;
  }
  const idNode = options.get('id', true) as Node | undefined;
  const id = plain(idNode);
  if (typeof id !== 'string' || id.trim() === '') {
    result.warnings.push(`${where}: a provider without an id; left as it is`);
    return null;
  }
  const idPair = options.items.find((p) => plain(p.key) === 'id')!;
  const configPair = options.items.find((p) => plain(p.key) === 'config');
  options.items = options.items.filter((p) => p !== idPair && p !== configPair);

  const specialist = new YAMLMap();
  specialist.add(new Pair(new Scalar('type'), new Scalar('provider')));
  specialist.add(idPair);
  if (configPair) specialist.add(configPair);
  if (!configPair) specialist.flow = true;
  const config = new YAMLMap();
  config.add(new Pair(new Scalar('specialist'), specialist));
  config.add(new Pair(new Scalar('samples'), new Scalar(plan.samples)));

  const wrapper = new YAMLMap();
  wrapper.commentBefore = joinComments(options.commentBefore, COMMENTS.provider);
  wrapper.comment = options.comment;
  wrapper.add(new Pair(new Scalar('id'), new Scalar(PROVIDER_ID)));
  const labelPair = options.items.find((p) => plain(p.key) === 'label');
  if (labelPair) options.items = options.items.filter((p) => p !== labelPair);
  wrapper.add(labelPair ?? new Pair(new Scalar('label'), new Scalar(id)));
  wrapper.add(new Pair(new Scalar('config'), config));
  for (const p of options.items) wrapper.add(p);

  const innerConfig = configPair ? (doc.createNode(configPair.value).toJSON() as unknown) : {};
  result.wrapped.push({ id, config: typeof innerConfig === 'object' && innerConfig !== null ? (innerConfig as Record<string, unknown>) : {} });
  const label = labelPair ? ` (label "${String(plain(labelPair.value))}" kept)` : ` (labelled "${id}", so its column keeps its name)`;
  result.changes.push(`${where}: ${id} is now sampled ${plan.samples} times per test by the RolloutProvider${label}`);
  if (id.startsWith('file://')) result.warnings.push(`${where}: the wrapped ${id} is loaded from the folder you run promptfoo in; run it from the config's folder or give an absolute path`);
  return wrapper;
}

function addAssertion(doc: Document, plan: InitPlan, result: InitChanges): void {
  const root = doc.contents as YAMLMap;
  let defaultTest = root.get('defaultTest', true) as Node | undefined;
  if (defaultTest !== undefined && !isMap(defaultTest)) {
    result.warnings.push(`defaultTest is ${isScalar(defaultTest) ? `a reference (${String(defaultTest.value)})` : 'not a mapping'}; add the gradeRollouts assertion there yourself (README: Add it to your promptfoo config)`);
    return;
  }
  if (defaultTest === undefined) {
    defaultTest = new YAMLMap();
    insertBefore(root, new Pair(new Scalar('defaultTest'), defaultTest), ['tests', 'scenarios', 'extensions', 'outputPath', 'evaluateOptions', 'commandLineOptions']);
  }
  let asserts = (defaultTest as YAMLMap).get('assert', true) as Node | undefined;
  if (asserts === undefined) {
    asserts = new YAMLSeq();
    (defaultTest as YAMLMap).set('assert', asserts);
  }
  if (!isSeq(asserts)) {
    result.warnings.push('defaultTest.assert is not a list; add the gradeRollouts assertion there yourself');
    return;
  }
  if (asserts.items.some((a) => isMap(a) && plain(a.get('value', true)) === ASSERTION_VALUE)) return;
  const assertion = new YAMLMap();
  assertion.commentBefore = COMMENTS.assertion;
  assertion.add(new Pair(new Scalar('type'), new Scalar('javascript')));
  assertion.add(new Pair(new Scalar('value'), new Scalar(ASSERTION_VALUE)));
  if (plan.grader) {
    const config = new YAMLMap();
    config.flow = true;
    const grader = doc.createNode(plan.grader, { flow: true });
    config.add(new Pair(new Scalar('grader'), grader));
    assertion.add(new Pair(new Scalar('config'), config));
  }
  asserts.items.push(assertion);
  result.changes.push(`defaultTest.assert: added gradeRollouts${plan.grader ? ` with grader { ${Object.entries(plan.grader).map(([k, v]) => `${k}: ${String(v)}`).join(', ')} }` : ' (default grader: equals on the var "answer")'}`);
}

function addHooks(doc: Document, plan: InitPlan, result: InitChanges): void {
  const root = doc.contents as YAMLMap;
  let list = root.get('extensions', true) as Node | undefined;
  if (list === undefined) {
    list = new YAMLSeq();
    const key = new Scalar('extensions');
    key.commentBefore = COMMENTS.extensions;
    insertBefore(root, new Pair(key, list), []);
  }
  if (isScalar(list) && typeof list.value === 'string') {
    const seq = new YAMLSeq();
    seq.items.push(list);
    root.set('extensions', seq);
    list = seq;
  }
  if (!isSeq(list)) {
    result.warnings.push('extensions is not a list; add the hooks there yourself');
    return;
  }
  const seq = list;
  for (const which of ['afterEach', 'afterAll']) {
    const want = `file://${plan.hooks}:${which}`;
    const ours = seq.items.filter((n): n is Scalar<string> => isScalar(n) && typeof n.value === 'string' && isOurHook(n.value, which) && /promptfoo-recoverability|^file:\/\/[./]*hooks\.js/.test(n.value));
    if (ours.some((n) => n.value === want)) continue;
    if (ours.length > 0) {
      result.changes.push(`extensions: ${ours[0]!.value} → ${want} (paths are relative to the config file)`);
      ours[0]!.value = want;
      continue;
    }
    seq.items.push(new Scalar(want));
    result.changes.push(`extensions: added ${want}`);
  }
}

/** Inserts a pair into a mapping before the first of `before` keys present (else at the end). */
function insertBefore(map: YAMLMap, pair: Pair, before: string[]): void {
  // Keep the file's habit of a blank line between top-level sections.
  if (map.items.slice(1).some((p) => (p.key as Node | null)?.spaceBefore)) (pair.key as Node).spaceBefore = true;
  const at = map.items.findIndex((p) => before.includes(String(plain(p.key))));
  if (at < 0) map.items.push(pair);
  else map.items.splice(at, 0, pair);
}

function joinComments(...parts: (string | null | undefined)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join('\n');
}
