// Runs conformance vector files (SPEC.md section 2) against the engine: each case is parsed,
// evaluated or compared, and reported as what the engine did plus, when the file holds expected
// answers, whether it agrees.
import { astToJson } from './ast.ts';
import { compile } from './compile.ts';
import { ExecutionContext, type ListMatchers } from './context.ts';
import { RuleParseError } from './errors.ts';
import { standardFunctions } from './functions/index.ts';
import { parseIp } from './ip.ts';
import { compileLists, type ListType } from './lists.ts';
import { parse, type ParserSettings } from './parser.ts';
import { Scheme } from './scheme.ts';
import { bytesFrom, elementType, normalizeInt, parseType, sortedMap, utf8Bytes, type Bytes, type Int, type Type, type Value } from './values.ts';

interface VectorScheme {
  readonly nil_not_equal?: boolean;
  readonly lists?: readonly string[];
  readonly fields: Readonly<Record<string, string>>;
}

interface VectorList {
  readonly type: string;
  readonly items: readonly unknown[];
}

export interface VectorCase {
  readonly id: string;
  readonly kind: 'parse_ok' | 'parse_error' | 'eval' | 'ast_equal';
  readonly scheme: string;
  readonly expression: string;
  readonly expression2?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly values?: Readonly<Record<string, unknown>>;
  readonly lists?: Readonly<Record<string, VectorList>>;
  readonly ast?: unknown;
  readonly expected?: unknown;
}

export interface VectorFile {
  readonly default_settings?: Readonly<Record<string, unknown>>;
  readonly schemes: Readonly<Record<string, VectorScheme>>;
  readonly cases: readonly VectorCase[];
}

/** What the engine did with one case (the `--actual` line). */
export interface ActualOutcome {
  id: string;
  parsed: boolean;
  ast?: unknown;
  error?: { category: string; span: { start: number; len: number }; line: number; column: number; detail?: unknown; message?: string };
  result?: boolean;
  equal?: boolean;
}

export interface CaseReport {
  readonly actual: ActualOutcome;
  /** undefined when the case has no expected answer to compare with. */
  readonly passed: boolean | undefined;
  /** Why it failed, when it did. */
  readonly problem?: string;
}

export function runVectors(file: VectorFile): CaseReport[] {
  const schemes = new Map<string, Scheme>();
  const schemeFor = (name: string): Scheme => {
    let scheme = schemes.get(name);
    if (scheme === undefined) {
      const spec = file.schemes[name];
      if (spec === undefined) throw new Error(`unknown scheme "${name}"`);
      scheme = new Scheme({
        fields: Object.fromEntries(Object.entries(spec.fields).map(([field, type]) => [field, typeOf(type)])),
        functions: standardFunctions,
        lists: (spec.lists ?? []).map(typeOf),
        nilNotEqual: spec.nil_not_equal ?? true,
      });
      schemes.set(name, scheme);
    }
    return scheme;
  };
  return file.cases.map((vector) => {
    try {
      return runCase(vector, schemeFor(vector.scheme), { ...file.default_settings, ...vector.settings });
    } catch (error) {
      // A malformed case (unknown scheme, undecodable value) fails alone; the rest still run.
      return { actual: { id: vector.id, parsed: false }, passed: false, problem: `cannot run the case: ${(error as Error).message}` };
    }
  });
}

function runCase(vector: VectorCase, scheme: Scheme, rawSettings: Readonly<Record<string, unknown>>): CaseReport {
  const settings = parserSettings(rawSettings);
  const actual: ActualOutcome = { id: vector.id, parsed: false };
  let ast;
  try {
    ast = parse(scheme, vector.expression, settings);
  } catch (error) {
    if (!(error instanceof RuleParseError)) throw error;
    actual.error = {
      category: error.category,
      span: { start: error.span.start, len: error.span.len },
      line: error.line,
      column: error.column,
      detail: error.detail,
      message: error.reason,
    };
    return { actual, ...judgeError(vector, error) };
  }
  actual.parsed = true;
  const json = JSON.parse(astToJson(ast)) as unknown;
  actual.ast = json;
  if (vector.kind === 'ast_equal' && vector.expression2 !== undefined) {
    try {
      actual.equal = astToJson(parse(scheme, vector.expression2, settings)) === astToJson(ast);
    } catch (error) {
      if (!(error instanceof RuleParseError)) throw error;
      return { actual, passed: false, problem: `expression2 does not parse: ${error.message}` };
    }
  }
  if (vector.kind === 'eval' || vector.values !== undefined) {
    const ctx = new ExecutionContext(scheme, { lists: listMatchers(vector.lists ?? {}) });
    for (const [name, encoded] of Object.entries(vector.values ?? {})) {
      const field = scheme.field(name);
      if (field === undefined) throw new Error(`case ${vector.id}: unknown field "${name}"`);
      ctx.set(name, decodeValue(encoded, field.type));
    }
    actual.result = compile(ast, scheme).execute(ctx);
  }
  return { actual, ...judgeSuccess(vector, actual) };
}

function judgeError(vector: VectorCase, error: RuleParseError): { passed: boolean | undefined; problem?: string } {
  if (vector.expected === undefined) return { passed: undefined };
  if (vector.kind !== 'parse_error') return { passed: false, problem: `did not parse: ${error.category} at ${error.span.start}+${error.span.len}: ${error.reason}` };
  const expected = vector.expected as { error: string; span?: { start: number; len: number }; line?: number; column?: number; detail?: Record<string, unknown> };
  const got = `${error.category} span ${error.span.start}+${error.span.len} (${error.line}:${error.column}) ${JSON.stringify(error.detail)}`;
  const fail = (what: string) => ({ passed: false, problem: `${what}; got ${got}` });
  if (expected.error !== error.category) return fail(`expected ${expected.error}`);
  if (expected.span !== undefined && (expected.span.start !== error.span.start || expected.span.len !== error.span.len)) {
    return fail(`expected span ${expected.span.start}+${expected.span.len}`);
  }
  if (expected.line !== undefined && expected.line !== error.line) return fail(`expected line ${expected.line}`);
  if (expected.column !== undefined && expected.column !== error.column) return fail(`expected column ${expected.column}`);
  for (const [key, value] of Object.entries(expected.detail ?? {})) {
    const actual = error.detail[key];
    const same = key === 'expected' && Array.isArray(value) && Array.isArray(actual) ? sameSet(value, actual) : deepEqual(value, actual);
    if (!same) return fail(`expected detail ${key} = ${JSON.stringify(value)}`);
  }
  return { passed: true };
}

function judgeSuccess(vector: VectorCase, actual: ActualOutcome): { passed: boolean | undefined; problem?: string } {
  if (vector.kind === 'parse_error') {
    if (vector.expected === undefined) return { passed: undefined };
    return { passed: false, problem: `parsed, but ${(vector.expected as { error: string }).error} was expected` };
  }
  if (vector.ast !== undefined && !deepEqual(vector.ast, actual.ast)) {
    return { passed: false, problem: `AST ${JSON.stringify(actual.ast)} differs from ${JSON.stringify(vector.ast)}` };
  }
  if (vector.expected === undefined) return { passed: vector.kind === 'parse_ok' ? true : undefined };
  if (vector.kind === 'eval' && actual.result !== vector.expected) return { passed: false, problem: `evaluated to ${actual.result}` };
  if (vector.kind === 'ast_equal' && actual.equal !== vector.expected) return { passed: false, problem: `ASTs ${actual.equal ? 'are' : 'are not'} equal` };
  return { passed: true };
}

function parserSettings(raw: Readonly<Record<string, unknown>>): ParserSettings {
  const number = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : undefined);
  return {
    maxNestingDepth: number('max_nesting_depth'),
    wildcardStarLimit: number('wildcard_star_limit') ?? null,
    maxExpressionLength: number('max_expression_length'),
  };
}

function typeOf(text: string): Type {
  const type = parseType(text);
  if (type === undefined) throw new Error(`unknown type "${text}"`);
  return type;
}

/** Decodes a value of the given type from the vector encoding (SPEC 2.3). */
export function decodeValue(encoded: unknown, type: Type): Value {
  switch (type) {
    case 'Bytes':
      return decodeBytes(encoded);
    case 'Int':
      return decodeInt(encoded);
    case 'Bool':
      if (typeof encoded !== 'boolean') throw new Error(`expected a boolean, got ${JSON.stringify(encoded)}`);
      return encoded;
    case 'Ip': {
      const ip = typeof encoded === 'string' ? parseIp(encoded) : undefined;
      if (ip === undefined) throw new Error(`expected an IP address, got ${JSON.stringify(encoded)}`);
      return ip;
    }
  }
  const element = elementType(type) as Type;
  if (type.startsWith('Array<')) {
    if (!Array.isArray(encoded)) throw new Error(`expected an array, got ${JSON.stringify(encoded)}`);
    return encoded.map((item) => decodeValue(item, element));
  }
  if (Array.isArray(encoded)) {
    return sortedMap(encoded.map((pair: [unknown, unknown]) => [decodeBytes(pair[0]), decodeValue(pair[1], element)] as const));
  }
  if (typeof encoded !== 'object' || encoded === null) throw new Error(`expected a map, got ${JSON.stringify(encoded)}`);
  return sortedMap(Object.entries(encoded).map(([key, value]) => [utf8Bytes(key), decodeValue(value, element)] as const));
}

function decodeBytes(encoded: unknown): Bytes {
  if (typeof encoded === 'string') return utf8Bytes(encoded);
  if (typeof encoded === 'object' && encoded !== null) {
    const object = encoded as { hex?: string; repeat?: string; count?: number };
    if (typeof object.hex === 'string') return bytesFrom(Buffer.from(object.hex, 'hex'));
    if (typeof object.repeat === 'string' && typeof object.count === 'number') return utf8Bytes(object.repeat).repeat(object.count);
  }
  throw new Error(`expected bytes, got ${JSON.stringify(encoded)}`);
}

function decodeInt(encoded: unknown): Int {
  if (typeof encoded === 'number' && Number.isInteger(encoded)) return encoded;
  if (typeof encoded === 'string' && /^-?[0-9]+$/.test(encoded)) return normalizeInt(BigInt(encoded));
  throw new Error(`expected an integer, got ${JSON.stringify(encoded)}`);
}

/** List matchers from a case's `lists` (names not present match nothing); items use the vector encoding. */
function listMatchers(lists: Readonly<Record<string, VectorList>>): ListMatchers {
  return compileLists(
    new Map(
      Object.entries(lists).map(([name, list]) => {
        const type = list.type as ListType;
        const items = type === 'Bytes' ? list.items.map(decodeBytes) : (list.items as (string | number)[]);
        return [name, { type, items }];
      }),
    ),
  );
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  return aKeys.length === bKeys.length && aKeys.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function sameSet(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item) => b.some((other) => deepEqual(item, other)));
}

