// Reads go-ftw test files the way go-ftw v2 does (go-yaml into ftw-tests-schema v2 types, then
// test/types.go's post-processing), so that what is sent and expected matches go-ftw.
//
// Go's YAML decoder gives a string field the scalar's text as written (`port: 080` stays "080"
// in a string field), so scalars are read from the document tree, not through YAML 1.2's
// type resolution. A value of the wrong kind (a list where a string belongs, ...) makes go-ftw
// skip the whole file with a warning; so does this loader.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { goStringCompare } from './go-compat.ts';
import { emptyOutput, type FtwFile, type FtwTest, type HeaderTuple, type Stage, type StageInput, type StageOutput } from './types.ts';

/** A YAML value as Go's decoder sees it: scalars keep their text; null is a nil. */
export type YamlValue = { kind: 'scalar'; text: string; plain: boolean } | { kind: 'null' } | { kind: 'seq'; items: YamlValue[] } | { kind: 'map'; entries: [string, YamlValue][] };

export class TestFileError extends Error {}

const NULL_TEXTS = new Set(['', '~', 'null', 'Null', 'NULL']);

function convert(node: unknown, doc: Document, depth = 0): YamlValue {
  if (depth > 64) throw new TestFileError('YAML nesting too deep');
  if (node === null || node === undefined) return { kind: 'null' };
  if (isAlias(node)) return convert(node.resolve(doc), doc, depth + 1);
  if (isScalar(node)) {
    const plain = node.type === 'PLAIN' && node.tag === undefined;
    const text = plain && typeof node.source === 'string' ? node.source : node.value === null ? '' : String(node.value);
    if (plain && NULL_TEXTS.has(text)) return { kind: 'null' };
    return { kind: 'scalar', text, plain };
  }
  if (isSeq(node)) return { kind: 'seq', items: node.items.map((item) => convert(item, doc, depth + 1)) };
  if (isMap(node)) {
    const entries: [string, YamlValue][] = [];
    for (const pair of node.items) {
      const key = convert(pair.key, doc, depth + 1);
      if (key.kind !== 'scalar') throw new TestFileError('a mapping key is not a scalar');
      entries.push([key.text, convert(pair.value as Node | null, doc, depth + 1)]);
    }
    return { kind: 'map', entries };
  }
  throw new TestFileError('unexpected YAML node');
}

/** Parses one YAML document into the Go-decoder view; syntax errors and duplicate keys throw. */
export function parseYaml(text: string): YamlValue {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new TestFileError(doc.errors[0]!.message);
  return convert(doc.contents, doc);
}

// -- typed field access, with go-yaml's errors ------------------------------------------------

function field(map: YamlValue, key: string): YamlValue | undefined {
  if (map.kind !== 'map') return undefined;
  const entry = map.entries.find(([k]) => k === key);
  return entry === undefined || entry[1].kind === 'null' ? undefined : entry[1];
}

function str(value: YamlValue | undefined, where: string): string | undefined {
  if (value === undefined || value.kind === 'null') return undefined;
  if (value.kind !== 'scalar') throw new TestFileError(`${where}: cannot unmarshal a ${value.kind === 'seq' ? 'sequence' : 'mapping'} into a string`);
  return value.text;
}

/** go-yaml's integer forms: decimal, 0x, 0o, 0b, with a sign and `_` separators. */
function int(value: YamlValue | undefined, where: string): number | undefined {
  if (value === undefined || value.kind === 'null') return undefined;
  if (value.kind !== 'scalar' || !value.plain) throw new TestFileError(`${where}: expected an integer`);
  const t = value.text.replace(/_/g, '');
  const m = /^([-+]?)(0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|[0-9]+)$/.exec(t);
  if (m === null) throw new TestFileError(`${where}: cannot unmarshal ${JSON.stringify(value.text)} into an integer`);
  const digits = m[2]!;
  const n = digits.startsWith('0o') ? parseInt(digits.slice(2), 8) : digits.startsWith('0b') ? parseInt(digits.slice(2), 2) : Number(digits);
  return m[1] === '-' ? -n : n;
}

function uint(value: YamlValue | undefined, where: string): number | undefined {
  const n = int(value, where);
  if (n !== undefined && n < 0) throw new TestFileError(`${where}: cannot unmarshal ${n} into an unsigned integer`);
  return n;
}

const TRUE = new Set(['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const FALSE = new Set(['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

function bool(value: YamlValue | undefined, where: string): boolean | undefined {
  if (value === undefined || value.kind === 'null') return undefined;
  if (value.kind === 'scalar' && value.plain && TRUE.has(value.text)) return true;
  if (value.kind === 'scalar' && value.plain && FALSE.has(value.text)) return false;
  throw new TestFileError(`${where}: expected true or false`);
}

function seq(value: YamlValue | undefined, where: string): YamlValue[] | undefined {
  if (value === undefined || value.kind === 'null') return undefined;
  if (value.kind !== 'seq') throw new TestFileError(`${where}: expected a list`);
  return value.items;
}

function uintList(value: YamlValue | undefined, where: string): number[] | undefined {
  return seq(value, where)?.map((item, i) => uint(item, `${where}[${i}]`) ?? 0);
}

function map(value: YamlValue | undefined, where: string): [string, YamlValue][] | undefined {
  if (value === undefined || value.kind === 'null') return undefined;
  if (value.kind !== 'map') throw new TestFileError(`${where}: expected a mapping`);
  return value.entries;
}

// -- the schema -------------------------------------------------------------------------------

function readInput(value: YamlValue | undefined, where: string): StageInput {
  const v = value ?? { kind: 'null' };
  if (value !== undefined) map(value, where);
  // go-ftw: an `ordered_headers` list wins over the deprecated `headers` map, which is sorted
  // by name (Go's byte-wise order) because Go maps have no order.
  let headers: HeaderTuple[];
  const ordered = seq(field(v, 'ordered_headers'), `${where}.ordered_headers`);
  if (ordered !== undefined) {
    headers = ordered.map((item, i) => {
      const w = `${where}.ordered_headers[${i}]`;
      map(item, w);
      return { name: str(field(item, 'name'), `${w}.name`) ?? '', value: str(field(item, 'value'), `${w}.value`) ?? '' };
    });
  } else {
    const entries = map(field(v, 'headers'), `${where}.headers`) ?? [];
    headers = entries
      .map(([name, val]) => ({ name, value: str(val, `${where}.headers.${name}`) ?? '' }))
      .sort((a, b) => goStringCompare(a.name, b.name));
  }
  // autocomplete_headers wins; else the inverse of the deprecated stop_magic; else true.
  const autocomplete = bool(field(v, 'autocomplete_headers'), `${where}.autocomplete_headers`);
  const stopMagic = bool(field(v, 'stop_magic'), `${where}.stop_magic`);
  return {
    destAddr: str(field(v, 'dest_addr'), `${where}.dest_addr`),
    port: int(field(v, 'port'), `${where}.port`),
    protocol: str(field(v, 'protocol'), `${where}.protocol`),
    method: str(field(v, 'method'), `${where}.method`),
    uri: str(field(v, 'uri'), `${where}.uri`),
    version: str(field(v, 'version'), `${where}.version`),
    headers,
    data: str(field(v, 'data'), `${where}.data`),
    encodedData: str(field(v, 'encoded_data'), `${where}.encoded_data`),
    encodedRequest: str(field(v, 'encoded_request'), `${where}.encoded_request`) ?? '',
    autocompleteHeaders: autocomplete ?? (stopMagic === undefined ? true : !stopMagic),
    saveCookie: bool(field(v, 'save_cookie'), `${where}.save_cookie`),
    followRedirect: bool(field(v, 'follow_redirect'), `${where}.follow_redirect`),
    virtualHostMode: bool(field(v, 'virtual_host_mode'), `${where}.virtual_host_mode`) ?? false,
  };
}

/**
 * A stage's `output`. `legacyLogContains` applies go-ftw's load-time move of `log_contains` /
 * `no_log_contains` into `log.match_regex` / `log.no_match_regex` (only when `expect_ids` /
 * `no_expect_ids` and the regex are absent); go-ftw does not do it for platform overrides.
 */
export function readOutput(value: YamlValue | undefined, where: string, legacyLogContains: boolean): StageOutput {
  const out = emptyOutput();
  if (value === undefined) return out;
  map(value, where);
  const statusValue = field(value, 'status');
  // go-ftw v2 has `status: <int>`; older go-ftw versions took a list of acceptable statuses.
  if (statusValue?.kind === 'seq') out.status = uintList(statusValue, `${where}.status`) ?? [];
  else {
    const status = int(statusValue, `${where}.status`) ?? 0;
    out.status = status === 0 ? [] : [status];
  }
  out.responseContains = str(field(value, 'response_contains'), `${where}.response_contains`) ?? '';
  out.expectError = bool(field(value, 'expect_error'), `${where}.expect_error`) ?? false;
  out.retryOnce = bool(field(value, 'retry_once'), `${where}.retry_once`) ?? false;
  out.isolated = bool(field(value, 'isolated'), `${where}.isolated`) ?? false;
  const log = field(value, 'log');
  map(log, `${where}.log`);
  const expectIds = log === undefined ? undefined : uintList(field(log, 'expect_ids'), `${where}.log.expect_ids`);
  const noExpectIds = log === undefined ? undefined : uintList(field(log, 'no_expect_ids'), `${where}.log.no_expect_ids`);
  out.log = {
    expectIds: expectIds ?? [],
    noExpectIds: noExpectIds ?? [],
    matchRegex: (log && str(field(log, 'match_regex'), `${where}.log.match_regex`)) ?? '',
    noMatchRegex: (log && str(field(log, 'no_match_regex'), `${where}.log.no_match_regex`)) ?? '',
  };
  const logContains = str(field(value, 'log_contains'), `${where}.log_contains`) ?? '';
  const noLogContains = str(field(value, 'no_log_contains'), `${where}.no_log_contains`) ?? '';
  if (legacyLogContains) {
    if (logContains !== '' && expectIds === undefined && out.log.matchRegex === '') out.log.matchRegex = logContains;
    if (noLogContains !== '' && noExpectIds === undefined && out.log.noMatchRegex === '') out.log.noMatchRegex = noLogContains;
  }
  return out;
}

/** go-ftw's rule id fallback: the first run of digits in the file name. */
function ruleIdFromFileName(path: string): number | undefined {
  const m = /\d+/.exec(basename(path));
  return m === null ? undefined : Number(m[0]);
}

/** Parses one test file's text. Throws TestFileError where go-ftw would skip the file. */
export function parseTestFile(text: string, path: string): FtwFile {
  const parsed = parseYaml(text);
  // An empty document (all comments) decodes to an empty test file, as in Go.
  const root: YamlValue = parsed.kind === 'null' ? { kind: 'map', entries: [] } : parsed;
  if (root.kind !== 'map') throw new TestFileError('the file is not a mapping');
  const meta = field(root, 'meta');
  map(meta, 'meta');
  const name = (meta && str(field(meta, 'name'), 'meta.name')) ?? '';
  const ruleId = uint(field(root, 'rule_id'), 'rule_id') || ruleIdFromFileName(path);
  if (ruleId === undefined) throw new TestFileError('rule_id is missing and the file name has no number');
  const tests: FtwTest[] = (seq(field(root, 'tests'), 'tests') ?? []).map((t, index) => {
    const where = `tests[${index}]`;
    map(t, where);
    // The v2 field is `test_id`; a missing (or 0) id is the test's position, from 1.
    const testId = uint(field(t, 'test_id'), `${where}.test_id`) || index + 1;
    const stages: Stage[] = (seq(field(t, 'stages'), `${where}.stages`) ?? []).map((s, si) => {
      const sw = `${where}.stages[${si}]`;
      map(s, sw);
      return {
        description: str(field(s, 'description'), `${sw}.description`) ?? '',
        input: readInput(field(s, 'input'), `${sw}.input`),
        output: readOutput(field(s, 'output'), `${sw}.output`, true),
      };
    });
    const tags = (seq(field(t, 'tags'), `${where}.tags`) ?? []).map((x, i) => str(x, `${where}.tags[${i}]`) ?? '');
    return {
      ruleId,
      testId,
      id: `${ruleId}-${testId}`,
      description: str(field(t, 'desc'), `${where}.desc`) ?? '',
      tags,
      stages,
      file: path,
    };
  });
  return { path, ruleId, name, tests };
}

export interface LoadedSuite {
  files: FtwFile[];
  /** Files go-ftw would skip, with the reason. */
  skipped: { path: string; reason: string }[];
}

/** Every `*.yaml` / `*.yml` below `dir`, in path order (as go-ftw's `**` glob yields them). */
export function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => goStringCompare(a.name, b.name))) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(entry.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Loads every test file below `dir`. With `ruleIds`, files that cannot hold tests of those
 * rules (neither their text nor their name contains the id) are not parsed, which saves most
 * of the few seconds YAML parsing of the whole suite takes.
 */
export function loadSuite(dir: string, ruleIds?: readonly string[]): LoadedSuite {
  const files: FtwFile[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const path of findTestFiles(dir)) {
    try {
      const text = readFileSync(path, 'utf8');
      if (ruleIds !== undefined && !ruleIds.some((id) => text.includes(id) || basename(path).includes(id))) continue;
      files.push(parseTestFile(text, path));
    } catch (err) {
      if (!(err instanceof TestFileError)) throw err;
      skipped.push({ path, reason: err.message });
    }
  }
  return { files, skipped };
}
