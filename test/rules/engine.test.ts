// The rules engine's stages from the outside: parse errors and their rendering, evaluation
// semantics (missing values, map-each, quantifiers, lists), the substring searcher, and the
// properties parse → print → parse and "evaluation never throws".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { astToJson } from '../../src/rules/ast.ts';
import { compile } from '../../src/rules/compile.ts';
import { ExecutionContext } from '../../src/rules/context.ts';
import { RuleParseError } from '../../src/rules/errors.ts';
import { standardFunctions } from '../../src/rules/functions/index.ts';
import { parseIp } from '../../src/rules/ip.ts';
import { parse } from '../../src/rules/parser.ts';
import { printFilter } from '../../src/rules/printer.ts';
import { Scheme } from '../../src/rules/scheme.ts';
import { substringSearcher } from '../../src/rules/search.ts';
import { sortedMap, utf8Bytes, type MaybeValue, type Type, type Value } from '../../src/rules/values.ts';

const FIELDS: Record<string, Type> = {
  s1: 'Bytes',
  s2: 'Bytes',
  n: 'Int',
  ip: 'Ip',
  b: 'Bool',
  arr: 'Array<Bytes>',
  m: 'Map<Bytes>',
  ab: 'Array<Bool>',
  nested: 'Array<Array<Bytes>>',
};
const scheme = new Scheme({ fields: FIELDS, functions: standardFunctions, lists: ['Ip', 'Int', 'Bytes'], nilNotEqual: false });
const engineDefault = new Scheme({ fields: FIELDS, functions: standardFunctions, nilNotEqual: true });

function run(expression: string, values: Record<string, MaybeValue>, on = scheme): boolean {
  const ctx = new ExecutionContext(on, {
    lists: {
      Ip: (name, ip) => name === 'office' && ip.family === 4 && ip.value >>> 24 === 10,
      Bytes: (name, value) => name === 'hosts' && value === 'example.com',
    },
  });
  for (const [name, value] of Object.entries(values)) ctx.set(name, value);
  return compile(parse(on, expression), on).execute(ctx);
}

function parseError(expression: string): RuleParseError {
  try {
    parse(scheme, expression);
  } catch (error) {
    if (error instanceof RuleParseError) return error;
    throw error;
  }
  assert.fail(`${expression} parsed`);
}

test('errors report UTF-8 byte spans, lines and columns, and render like the reference engine', () => {
  const error = parseError('s1 == "é" and\n  n == "x"');
  assert.equal(error.category, 'expected_name');
  assert.deepEqual(error.span, { start: 22, len: 3 });
  assert.equal(error.line, 2);
  assert.equal(error.column, 8);
  assert.equal(error.render(), 'Filter parsing error (2:8):\n  n == "x"\n       ^^^ expected digit\n');
  assert.equal(parseError('s1 ==').category, 'unrecognised_input');
  assert.equal(parseError('x'.repeat(4097)).category, 'expression_too_long');
});

test('missing values: every comparison is false; != follows the scheme; not applies afterwards', () => {
  assert.equal(run('s1 != "a"', {}), false);
  assert.equal(run('s1 != "a"', {}, engineDefault), true);
  assert.equal(run('not s1 == "a"', {}), true);
  assert.equal(run('not b', {}), true);
  assert.equal(run('len(m["k"]) >= 0', { m: sortedMap([['k', '']]) }), true);
  assert.equal(run('len(m["k"]) >= 0', { m: sortedMap([]) }), false);
});

test('map-each, quantifiers and element-wise logic follow SPEC 8', () => {
  const nested: Value = [['a'], []];
  assert.equal(run('all(nested[*][0] == "a")', { nested }), true);
  assert.equal(run('any(nested[*][*] == "a")', { nested }), true);
  assert.equal(run('all(m[*] == "x")', {}), true);
  assert.equal(run('any(m[*] == "x")', {}), false);
  assert.equal(run('all(ab)', {}), false);
  assert.equal(run('all(ab)', { ab: [] }), true);
  // Map values are visited in ascending key order: [F, T] and [T] truncates to [F].
  const m = sortedMap([['z', 'y'], ['a', 'n']]);
  assert.equal(run('any((m[*] == "y" and arr[*] == "q"))', { m, arr: ['q'] }), false);
  assert.equal(run('any((m[*] == "n" and arr[*] == "q"))', { m, arr: ['q'] }), true);
  assert.equal(run('lower(arr[*])[1] == "b"', { arr: ['A', 'B'] }), true);
  assert.equal(run('concat(arr[*], "-x")[0] == "a-x"', { arr: ['a'] }), true);
});

test('ordering, sets, lists and bitwise operators', () => {
  assert.equal(run('s1 < "b"', { s1: 'ab' }), true);
  assert.equal(run('s1 > "z"', { s1: utf8Bytes('é') }), true);
  assert.equal(run('n in {1..5 10 100..200}', { n: 150 }), true);
  assert.equal(run('n in {1..5 10 100..200}', { n: 50 }), false);
  assert.equal(run('n & 4', { n: 12 }), true);
  assert.equal(run('n & -9223372036854775808', { n: -1 }), true);
  assert.equal(run('n < 9223372036854775807', { n: 2n ** 62n }), true);
  const ip = (text: string) => parseIp(text)!;
  assert.equal(run('ip in {10.0.0.0/8 2001:db8::/32}', { ip: ip('10.1.2.3') }), true);
  assert.equal(run('ip in {10.0.0.0/8 2001:db8::/32}', { ip: ip('::ffff:10.1.2.3') }), false);
  assert.equal(run('ip != 10.0.0.1', { ip: ip('::1') }), true);
  assert.equal(run('ip == 10.0.0.1', { ip: ip('::1') }), false);
  assert.equal(run('ip in $office', { ip: ip('10.9.9.9') }), true);
  assert.equal(run('s1 in $hosts or s1 in $unknown', { s1: 'example.com' }), true);
});

test('the substring searcher agrees with indexOf, including on adversarial haystacks', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '/', 'w') }), fc.string({ unit: fc.constantFrom('a', 'b', '/', 'w'), maxLength: 6 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (haystack, needle, seed) => {
      assert.equal(substringSearcher(needle, () => seed)(haystack), haystack.includes(needle));
    }),
    { numRuns: 2000 },
  );
  for (let offset = 0; offset < 1; offset += 0.1) {
    const search = substringSearcher('/wp-admin/', () => offset);
    assert.equal(search('/'.repeat(10_000)), false);
    assert.equal(search(`${'/'.repeat(10_000)}/wp-admin/`), true);
  }
});

// ---- properties ----

const text = fc.string({ unit: fc.constantFrom('a', 'B', '"', '\\', '*', 'é', '\x01', ' ', '/'), maxLength: 6 });
const identifierText = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 4 });
const int = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom('9223372036854775807', '-9223372036854775808', '0x10', '017'));
const quote = (value: string) => JSON.stringify(value).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');

const comparison: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('s1', 's2', 'lower(s1)', 'concat(s1, s2)', 'arr[0]', 'm["a"]', 'url_decode(s1)'), fc.constantFrom('==', '!=', '<', '>=', 'contains'), text).map(([l, op, r]) => `${l} ${op} ${quote(r)}`),
  fc.tuple(fc.constantFrom('s1', 'm["k"]'), identifierText).map(([l, r]) => `${l} matches r"^${r}|[a-c]+\\d"`),
  fc.tuple(fc.constantFrom('s1', 's2'), identifierText, fc.boolean()).map(([l, r, strict]) => `${l} ${strict ? 'strict wildcard' : 'wildcard'} "*${r}*"`),
  fc.tuple(fc.constantFrom('n', 'len(s1)', 'len(arr)'), fc.constantFrom('==', '<', '>=', '&'), int).map(([l, op, r]) => `${l} ${op} ${r}`),
  fc.tuple(fc.constantFrom('n', 'len(s2)'), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 4 })).map(([l, xs]) => `${l} in {${xs.map((x) => `${x}..${x + 3}`).join(' ')}}`),
  fc.constantFrom('ip == 10.0.0.1', 'ip in {10.0.0.0/8 ::1 192.168.0.1..192.168.0.9}', 'ip in $office', 'cidr(ip, 24, 64) == 10.0.0.0', 'b', 'not b'),
  fc.tuple(fc.constantFrom('any', 'all'), fc.constantFrom('arr[*] contains "a"', 'm[*] == "x"', 'lower(arr[*])[*] == "b"', 'nested[*][0] == "a"', '(arr[*] == "a" or arr[*] == "b")')).map(([q, arg]) => `${q}(${arg})`),
  fc.constantFrom('any(ab)', 'all(ab)', 's1 in {"a" "b" 61:62}', 's1 in $hosts', 'starts_with(s1, "a")', 'ends_with(s2, "b")'),
);

const expression: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.tuple(tie('expr'), fc.constantFrom('and', '&&', 'or', '||', 'xor', '^^'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('expr').map((e) => `(${e})`),
    tie('expr').map((e) => `not (${e})`),
  ),
})).expr as fc.Arbitrary<string>;

test('property: parse → print → parse gives the same AST JSON', () => {
  fc.assert(
    fc.property(expression, (source) => {
      const ast = parse(scheme, source);
      const printed = printFilter(ast);
      assert.equal(astToJson(parse(scheme, printed)), astToJson(ast), `printed as ${printed}`);
    }),
    { numRuns: 1500 },
  );
});

const bytes = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '/', '%', '2', '0', '\xff'), maxLength: 8 });
const values = fc.record(
  {
    s1: bytes,
    s2: bytes,
    n: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((v) => v > 2n ** 53n || v < -(2n ** 53n))),
    ip: fc.constantFrom('10.0.0.1', '::1', '::ffff:10.0.0.1', '192.168.0.5').map((t) => parseIp(t)!),
    b: fc.boolean(),
    arr: fc.array(bytes, { maxLength: 4 }),
    m: fc.array(fc.tuple(fc.constantFrom('a', 'k', 'z'), bytes), { maxLength: 3 }).map((entries) => sortedMap(entries)),
    ab: fc.array(fc.boolean(), { maxLength: 3 }),
    nested: fc.array(fc.array(bytes, { maxLength: 2 }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

test('property: evaluation never throws on values of the right types (present or absent)', () => {
  fc.assert(
    fc.property(expression, values, (source, fieldValues) => {
      const filter = compile(parse(scheme, source), scheme);
      const ctx = new ExecutionContext(scheme);
      for (const [name, value] of Object.entries(fieldValues)) ctx.set(name, value as Value);
      assert.equal(typeof filter.execute(ctx), 'boolean');
    }),
    { numRuns: 1500 },
  );
});
