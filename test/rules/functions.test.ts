// The standard function library (SPEC.md section 11): argument checks as the parser runs them,
// return types, and runtime semantics.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { FunctionDefinition, Param, ParamError } from '../../src/rules/function.ts';
import { standardFunctions } from '../../src/rules/functions/index.ts';
import { parseIp } from '../../src/rules/ip.ts';
import { type Ip, type MaybeValue, type Type, type Value } from '../../src/rules/values.ts';

const definition = (name: string): FunctionDefinition => {
  const found = standardFunctions.get(name);
  assert.ok(found, `${name} is registered`);
  return found;
};

const field = (type: Type): Param => ({ kind: 'Field', type });
const literal = (value: Value): Param => ({ kind: 'Literal', type: literalType(value), value });
const literalType = (value: Value): Type =>
  typeof value === 'string' ? 'Bytes' : typeof value === 'number' || typeof value === 'bigint' ? 'Int' : 'Ip';
const ip = (text: string): Ip => parseIp(text)!;

type CallError = (ParamError & { readonly index: number }) | { readonly error: 'invalid_arguments_count' };

/** The first error the parser would report for a call with these arguments (SPEC 10), if any. */
function checkCall(name: string, params: readonly Param[]): CallError | undefined {
  const fn = definition(name);
  for (let index = 0; index < params.length; index++) {
    if (fn.optionalArgs !== null && index >= fn.minArgs + fn.optionalArgs) return { error: 'invalid_arguments_count' };
    const error = fn.checkParam(index, params[index], params.slice(0, index));
    if (error !== undefined) return { ...error, index };
  }
  return params.length < fn.minArgs ? { error: 'invalid_arguments_count' } : undefined;
}

/** Checks and compiles the call, then runs it on each argument list. */
function compile(name: string, params: readonly Param[]): (...args: MaybeValue[]) => MaybeValue {
  assert.equal(checkCall(name, params), undefined, `${name} arguments are accepted`);
  const impl = definition(name).compile(params);
  return (...args) => impl(args);
}

/** A call whose first argument is a field of `type` holding `subject` and whose other arguments are literals. */
function call(name: string, type: Type, subject: MaybeValue, ...literals: Value[]): MaybeValue {
  return compile(name, [field(type), ...literals.map(literal)])(subject, ...literals);
}

const bytes = (name: string, subject: MaybeValue, ...literals: Value[]) => call(name, 'Bytes', subject, ...literals);
const hex = (text: string): string => Buffer.from(text, 'hex').toString('latin1');

const invalidValue = (index: number) => ({ error: 'invalid_argument_value', index });
const invalidKind = (index: number, expected: 'Field' | 'Literal') => ({ error: 'invalid_argument_kind', index, expected });
const invalidType = (index: number, expected: string[]) => ({ error: 'invalid_argument_type', index, expected });
const invalidCount = { error: 'invalid_arguments_count' };

describe('the registry', () => {
  it('holds the whole library of section 11 under its names', () => {
    assert.deepEqual([...standardFunctions.keys()].sort(), [
      'cidr',
      'cidr6',
      'concat',
      'decode_base64',
      'ends_with',
      'is_timed_hmac_valid_v0',
      'join',
      'len',
      'lookup_json_integer',
      'lookup_json_string',
      'lower',
      'regex_replace',
      'remove_bytes',
      'remove_query_args',
      'split',
      'starts_with',
      'substring',
      'to_string',
      'upper',
      'url_decode',
      'uuidv4',
      'wildcard_replace',
    ]);
    for (const [name, fn] of standardFunctions) assert.equal(fn.name, name);
  });

  it('declares the argument counts', () => {
    const counts = Object.fromEntries([...standardFunctions].map(([name, fn]) => [name, [fn.minArgs, fn.optionalArgs]]));
    assert.deepEqual(counts, {
      concat: [2, null],
      lower: [1, 0],
      upper: [1, 0],
      len: [1, 0],
      starts_with: [2, 0],
      ends_with: [2, 0],
      url_decode: [1, 1],
      lookup_json_string: [2, null],
      lookup_json_integer: [2, null],
      regex_replace: [3, 0],
      wildcard_replace: [3, 1],
      remove_bytes: [2, 0],
      remove_query_args: [2, null],
      to_string: [1, 0],
      cidr: [3, 0],
      cidr6: [2, 0],
      decode_base64: [1, 0],
      join: [2, 0],
      split: [3, 0],
      substring: [2, 1],
      uuidv4: [1, 0],
      is_timed_hmac_valid_v0: [4, 2],
    });
  });

  it('requires a field as the subject and literals as configuration', () => {
    assert.deepEqual(checkCall('lower', [literal('test')]), invalidKind(0, 'Field'));
    assert.deepEqual(checkCall('lower', [literal(10)]), invalidKind(0, 'Field'));
    assert.deepEqual(checkCall('lower', [field('Ip')]), invalidType(0, ['Bytes']));
    assert.deepEqual(checkCall('lower', []), invalidCount);
    assert.deepEqual(checkCall('lower', [field('Bytes'), field('Bytes')]), invalidCount);
    assert.deepEqual(checkCall('starts_with', [field('Bytes'), field('Bytes')]), invalidKind(1, 'Literal'));
    assert.deepEqual(checkCall('url_decode', [literal('John%20Doe')]), invalidKind(0, 'Field'));
    assert.deepEqual(checkCall('cidr', [literal(ip('1.2.3.4')), literal(24), literal(24)]), invalidKind(0, 'Field'));
    assert.deepEqual(checkCall('split', [field('Bytes'), literal(','), literal('3')]), invalidType(2, ['Int']));
  });
});

describe('concat', () => {
  it('concatenates bytes, literals included', () => {
    const words = ['String1', ' ', 'String', '2'];
    assert.equal(compile('concat', words.map(literal))(...words), 'String1 String2');
    assert.equal(compile('concat', [field('Bytes'), literal('.org')])('example', '.org'), 'example.org');
    assert.equal(compile('concat', [field('Bytes'), field('Bytes')])('\xff', '\x00'), '\xff\x00');
  });

  it('skips missing arguments and is missing only when all are', () => {
    const join3 = compile('concat', [literal('/'), field('Bytes'), field('Bytes')]);
    assert.equal(join3('/', undefined, '/my-path'), '//my-path');
    assert.equal(join3(undefined, undefined, 'x'), 'x');
    assert.equal(compile('concat', [field('Bytes'), field('Bytes')])(undefined, undefined), undefined);
    assert.equal(compile('concat', [field('Bytes'), field('Bytes')])('', undefined), '');
  });

  it('concatenates arrays without touching its inputs', () => {
    const arrays = compile('concat', [field('Array<Bytes>'), field('Array<Bytes>'), field('Array<Bytes>')]);
    const a = ['a'];
    const b = ['b', 'x'];
    assert.deepEqual(arrays(a, b, a), ['a', 'b', 'x', 'a']);
    assert.deepEqual(a, ['a']);
    assert.deepEqual(arrays(undefined, b, undefined), ['b', 'x']);
    assert.deepEqual(arrays(undefined, undefined, undefined), undefined);
    const nested = compile('concat', [field('Array<Array<Bytes>>'), field('Array<Array<Bytes>>')]);
    assert.deepEqual(nested([['a']], [['b', 'c']]), [['a'], ['b', 'c']]);
  });

  it('returns the type of its first argument', () => {
    assert.equal(definition('concat').returnType([field('Bytes'), literal('x')]), 'Bytes');
    assert.equal(definition('concat').returnType([field('Array<Int>'), field('Array<Int>')]), 'Array<Int>');
  });

  it('checks types against the first argument', () => {
    assert.deepEqual(checkCall('concat', [literal(0), literal(0)]), invalidType(0, ['Bytes', 'Array<_>']));
    assert.deepEqual(checkCall('concat', [field('Map<Bytes>'), field('Map<Bytes>')]), invalidType(0, ['Bytes', 'Array<_>']));
    assert.deepEqual(checkCall('concat', [field('Bytes'), field('Int')]), invalidType(1, ['Bytes']));
    assert.deepEqual(checkCall('concat', [field('Array<Bytes>'), field('Array<Int>')]), invalidType(1, ['Array<Bytes>']));
    assert.deepEqual(checkCall('concat', [field('Array<Bytes>'), literal('x')]), invalidType(1, ['Array<Bytes>']));
    assert.deepEqual(checkCall('concat', [field('Bytes')]), invalidCount);
    assert.equal(checkCall('concat', Array.from({ length: 40 }, () => field('Bytes'))), undefined);
  });
});

describe('lower, upper', () => {
  it('maps ASCII letters only', () => {
    assert.equal(bytes('lower', 'WWW.cloudflare.com'), 'www.cloudflare.com');
    assert.equal(bytes('upper', 'www.cloudflare.com'), 'WWW.CLOUDFLARE.COM');
    assert.equal(bytes('upper', 'caf\xc3\xa9'), 'CAF\xc3\xa9');
    assert.equal(bytes('lower', 'CAF\xc3\x89'), 'caf\xc3\x89');
    // Raw Latin-1 letters and bytes whose case mapping leaves Latin-1 stay as they are.
    assert.equal(bytes('lower', '\xc0\xdeAZ\xd7'), '\xc0\xdeaz\xd7');
    assert.equal(bytes('upper', '\xe0\xfeaz\xb5\xff\xdf'), '\xe0\xfeAZ\xb5\xff\xdf');
    assert.equal(bytes('lower', ''), '');
    assert.equal(bytes('lower', '123-_'), '123-_');
  });

  it('propagates missing', () => {
    assert.equal(bytes('lower', undefined), undefined);
    assert.equal(bytes('upper', undefined), undefined);
  });
});

describe('len', () => {
  it('counts bytes or elements', () => {
    assert.equal(bytes('len', 'example.com'), 11);
    assert.equal(bytes('len', '\xc3\xa9'), 2);
    assert.equal(call('len', 'Array<Bytes>', ['waf', 'botm', 'cdn']), 3);
    assert.equal(call('len', 'Array<Int>', []), 0);
    assert.equal(bytes('len', undefined), undefined);
    assert.equal(definition('len').returnType([field('Bytes')]), 'Int');
  });

  it('takes Bytes or an array', () => {
    assert.deepEqual(checkCall('len', [field('Map<Bytes>')]), invalidType(0, ['Bytes', 'Array<_>']));
    assert.deepEqual(checkCall('len', [field('Int')]), invalidType(0, ['Bytes', 'Array<_>']));
    assert.equal(checkCall('len', [field('Array<Array<Bool>>')]), undefined);
  });
});

describe('starts_with, ends_with', () => {
  it('tests byte-exact affixes', () => {
    assert.equal(bytes('starts_with', '/blog/first-post', '/blog'), true);
    assert.equal(bytes('starts_with', '/Blog/first-post', '/blog'), false);
    assert.equal(bytes('ends_with', '/welcome.html', '.html'), true);
    assert.equal(bytes('ends_with', '/welcome.htm', '.html'), false);
    assert.equal(bytes('ends_with', '\xff\xfe', '\xfe'), true);
    assert.equal(bytes('starts_with', '', ''), true);
    assert.equal(bytes('ends_with', 'abc', ''), true);
    assert.equal(bytes('starts_with', 'ab', 'abc'), false);
  });

  it('propagates missing and returns Bool', () => {
    assert.equal(bytes('starts_with', undefined, 'a'), undefined);
    assert.equal(bytes('ends_with', undefined, ''), undefined);
    assert.equal(definition('ends_with').returnType([field('Bytes'), literal('')]), 'Bool');
  });
});

describe('url_decode', () => {
  it('decodes + and %HH', () => {
    assert.equal(bytes('url_decode', 'John%20Doe'), 'John Doe');
    assert.equal(bytes('url_decode', 'John+Doe'), 'John Doe');
    assert.equal(bytes('url_decode', '%E4%BD'), '\xe4\xbd');
    assert.equal(bytes('url_decode', '%2b%2B'), '++');
    assert.equal(bytes('url_decode', 'plain'), 'plain');
  });

  it('copies malformed sequences unchanged', () => {
    assert.equal(bytes('url_decode', '%zz%4'), '%zz%4');
    assert.equal(bytes('url_decode', '100%'), '100%');
    assert.equal(bytes('url_decode', '%%41'), '%A');
    assert.equal(bytes('url_decode', '%u2601'), '%u2601');
    assert.equal(bytes('url_decode', '\xff%20\x80'), '\xff \x80');
  });

  it('decodes %uXXXX to UTF-8 with u, leaving surrogates', () => {
    assert.equal(bytes('url_decode', '%u2601', 'u'), '\xe2\x98\x81');
    assert.equal(bytes('url_decode', '%U00e9x', 'u'), '\xc3\xa9x');
    assert.equal(bytes('url_decode', '%u0041', 'u'), 'A');
    assert.equal(bytes('url_decode', '%uD83D%uDE00', 'u'), '%uD83D%uDE00');
    assert.equal(bytes('url_decode', '%u260', 'u'), '%u260');
  });

  it('repeats to a fixed point with r', () => {
    assert.equal(bytes('url_decode', '%2520'), '%20');
    assert.equal(bytes('url_decode', '%2520', 'r'), ' ');
    assert.equal(bytes('url_decode', '%25u2601', 'ur'), '\xe2\x98\x81');
    assert.equal(bytes('url_decode', '%25u2601', 'u'), '%u2601');
    assert.equal(bytes('url_decode', '%252B', 'r'), ' ');
    assert.equal(bytes('url_decode', '%25252525', 'rr'), '%');
    assert.equal(bytes('url_decode', '', 'ru'), '');
  });

  it('accepts only the option letters r and u', () => {
    assert.equal(checkCall('url_decode', [field('Bytes'), literal('')]), undefined);
    assert.equal(checkCall('url_decode', [field('Bytes'), literal('urur')]), undefined);
    assert.deepEqual(checkCall('url_decode', [field('Bytes'), literal('x')]), invalidValue(1));
    assert.deepEqual(checkCall('url_decode', [field('Bytes'), literal('R')]), invalidValue(1));
    assert.deepEqual(checkCall('url_decode', [field('Bytes'), field('Bytes')]), invalidKind(1, 'Literal'));
  });

  it('propagates missing', () => {
    assert.equal(bytes('url_decode', undefined, 'r'), undefined);
  });
});

describe('lookup_json_string, lookup_json_integer', () => {
  const string = (json: MaybeValue, ...keys: Value[]) => bytes('lookup_json_string', json, ...keys);
  const integer = (json: MaybeValue, ...keys: Value[]) => bytes('lookup_json_integer', json, ...keys);

  it('follows member names and array indexes', () => {
    const document = '{"company": {"name": "cloudflare", "ids": [1, 22, -3]}, "list": ["a", {"b": "c"}]}';
    assert.equal(string(document, 'company', 'name'), 'cloudflare');
    assert.equal(integer(document, 'company', 'ids', 1), 22);
    assert.equal(integer(document, 'company', 'ids', 2), -3);
    assert.equal(string(document, 'list', 1, 'b'), 'c');
    assert.equal(string(' [ "x" , "y" ] ', 1), 'y');
    assert.equal(string('{"":"empty"}', ''), 'empty');
  });

  it('is missing when a step does not exist or has the wrong type', () => {
    const document = '{"a": {"b": [1, "2", true, null, 1.5]}}';
    assert.equal(string(document, 'x'), undefined);
    assert.equal(string(document, 'a', 'b', 9), undefined);
    assert.equal(string(document, 'a', 0), undefined);
    assert.equal(string(document, 'a', 'b', 'c'), undefined);
    assert.equal(string(document, 'a', 'b', 0), undefined);
    assert.equal(string(document, 'a', 'b', 1), '2');
    assert.equal(integer(document, 'a', 'b', 1), undefined);
    assert.equal(integer(document, 'a', 'b', 2), undefined);
    assert.equal(integer(document, 'a', 'b', 3), undefined);
    assert.equal(integer(document, 'a', 'b', 4), undefined);
    assert.equal(string(document, 'a'), undefined);
    assert.equal(string('"top"', 'a'), undefined);
    assert.equal(string('{"A":"x"}', 'a'), undefined);
  });

  it('lets the last duplicate name win', () => {
    assert.equal(string('{"a":"first","a":"last"}', 'a'), 'last');
    assert.equal(string('{"a":{"b":"x"},"a":{"c":"y"}}', 'a', 'b'), undefined);
    assert.equal(string('{"a":{"b":"x"},"a":{"b":"z"}}', 'a', 'b'), 'z');
  });

  it('decodes strings to UTF-8 bytes', () => {
    assert.equal(string('{"k":"\\u00e9"}', 'k'), '\xc3\xa9');
    assert.equal(string('{"k":"\\ud83d\\ude00"}', 'k'), '\xf0\x9f\x98\x80');
    assert.equal(string('{"k":"\\"\\\\\\/\\b\\f\\n\\r\\t"}', 'k'), '"\\/\b\f\n\r\t');
    assert.equal(string('{"k":"caf\xc3\xa9 \xf0\x9f\x98\x80"}', 'k'), 'caf\xc3\xa9 \xf0\x9f\x98\x80');
    assert.equal(string('{"\\u0061":"escaped name"}', 'a'), 'escaped name');
    assert.equal(string('{"\xc3\xa9":"utf-8 name"}', '\xc3\xa9'), 'utf-8 name');
  });

  it('accepts integers within i64 only, without fraction or exponent', () => {
    assert.equal(integer('{"n":42}', 'n'), 42);
    assert.equal(integer('{"n":-0}', 'n'), 0);
    assert.ok(Object.is(integer('{"n":-0}', 'n'), 0));
    assert.equal(integer('{"n":42.0}', 'n'), undefined);
    assert.equal(integer('{"n":4.2e1}', 'n'), undefined);
    assert.equal(integer('{"n":42E0}', 'n'), undefined);
    assert.equal(integer('[9007199254740991]', 0), 9007199254740991);
    assert.equal(integer('[9007199254740992]', 0), 9007199254740992n);
    assert.equal(integer('[-9007199254740992]', 0), -9007199254740992n);
    assert.equal(integer('[9223372036854775807]', 0), 9223372036854775807n);
    assert.equal(integer('[-9223372036854775808]', 0), -9223372036854775808n);
    assert.equal(integer('[9223372036854775808]', 0), undefined);
    assert.equal(integer('[-9223372036854775809]', 0), undefined);
    assert.equal(integer('[123456789012345678901234567890]', 0), undefined);
    assert.equal(integer('[999999999999999]', 0), 999999999999999);
  });

  it('is missing for an invalid document, wherever the fault is', () => {
    for (const document of [
      '',
      ' ',
      '{"a":"x",}',
      '{"a":"x"} x',
      '{"a":"x"}{}',
      "{'a':'x'}",
      '{"a":"x" "b":1}',
      '{a:"x"}',
      '{"a":"x"',
      '{"a":"x", "b": 01}',
      '{"a":"x", "b": 1.}',
      '{"a":"x", "b": .5}',
      '{"a":"x", "b": 1e}',
      '{"a":"x", "b": +1}',
      '{"a":"x", "b": -}',
      '{"a":"x", "b": tru}',
      '{"a":"x", "b": NaN}',
      '{"a":"x", "b": "tab\there"}',
      '{"a":"x", "b": "\\x41"}',
      '{"a":"x", "b": "\\u12"}',
      '{"a":"x", "b": "\\ud800"}',
      '{"a":"x", "b": "\\udc00\\ud800"}',
      '{"a":"x", "b": "\xff"}',
      '{"a":"x", "b": "\xc3"}',
      '{"a":"x", "b": "\xc0\xaf"}',
      '{"a":"x", "b": "\xed\xa0\x80"}',
      '{"a":"x", "b": "\xf4\x90\x80\x80"}',
      '{"a":"x", "b": [1,]}',
      '{"a":"x", "b": [1 2]}',
      '{"a":"x"}\x00',
      '\xef\xbb\xbf{"a":"x"}',
      '{"a":"x", "b": "unterminated}',
    ]) {
      assert.equal(string(document, 'a'), undefined, JSON.stringify(document));
    }
    assert.equal(string('\t\r\n{"a" : "x"}\n', 'a'), 'x');
  });

  it('limits nesting to 128 containers', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
    assert.equal(string(nested(128), ...Array<Value>(128).fill(0)), 'x');
    assert.equal(string(`{"a":"x","b":${nested(128)}}`, 'a'), undefined);
    assert.equal(string(`{"a":"x","b":${nested(127)}}`, 'a'), 'x');
    assert.equal(string('['.repeat(100_000), 0), undefined);
  });

  it('takes literal Bytes or non-negative Int keys', () => {
    assert.deepEqual(checkCall('lookup_json_string', [field('Bytes'), literal(-1)]), invalidValue(1));
    assert.deepEqual(checkCall('lookup_json_integer', [field('Bytes'), literal('a'), literal(-5n)]), invalidValue(2));
    assert.deepEqual(checkCall('lookup_json_string', [field('Bytes'), literal(ip('1.2.3.4'))]), invalidType(1, ['Bytes', 'Int']));
    assert.deepEqual(checkCall('lookup_json_string', [field('Bytes'), field('Bytes')]), invalidKind(1, 'Literal'));
    assert.deepEqual(checkCall('lookup_json_string', [field('Bytes')]), invalidCount);
    assert.equal(checkCall('lookup_json_string', [field('Bytes'), literal(0), literal(2n ** 62n)]), undefined);
    assert.equal(string('[1]', 2n ** 62n), undefined);
    assert.equal(definition('lookup_json_integer').returnType([field('Bytes'), literal('a')]), 'Int');
    assert.equal(definition('lookup_json_string').returnType([field('Bytes'), literal('a')]), 'Bytes');
  });

  it('propagates missing', () => {
    assert.equal(string(undefined, 'a'), undefined);
    assert.equal(integer(undefined, 0), undefined);
  });
});

describe('regex_replace', () => {
  it('replaces the first match as the documentation shows', () => {
    assert.equal(bytes('regex_replace', '/foo/bar', '/bar$', '/baz'), '/foo/baz');
    assert.equal(bytes('regex_replace', '/x', '^/y$', '/mumble'), '/x');
    assert.equal(bytes('regex_replace', '/foo', '^/FOO$', '/x'), '/foo');
    assert.equal(bytes('regex_replace', '/a/a', '/a', '/b'), '/b/a');
    assert.equal(bytes('regex_replace', '/b', '^/b$', '/b$$'), '/b$');
    assert.equal(bytes('regex_replace', '/foo/a/path', '^/foo/([^/]*)/(.*)$', '/bar/${2}/${1}'), '/bar/path/a');
    assert.equal(bytes('regex_replace', 'x\\y', '\\\\', 'a'), 'xay');
    assert.equal(bytes('regex_replace', 'xay', 'a', '\\'), 'x\\y');
  });

  it('inserts the whole match for ${0} and nothing for a group that did not take part', () => {
    assert.equal(bytes('regex_replace', 'abc', 'b', '[${0}]'), 'a[b]c');
    assert.equal(bytes('regex_replace', 'ac', 'a(x)?c', '<${1}>'), '<>');
    assert.equal(bytes('regex_replace', 'abc', 'b', ''), 'ac');
    assert.equal(bytes('regex_replace', 'abc', '', '-'), '-abc');
  });

  it('works on non-UTF-8 subjects', () => {
    assert.equal(bytes('regex_replace', '\xff/a', '/a', '/b'), '\xff/b');
  });

  it('rejects invalid patterns and templates', () => {
    const check = (pattern: string, replacement: string) =>
      checkCall('regex_replace', [field('Bytes'), literal(pattern), literal(replacement)]);
    assert.deepEqual(check('(', 'x'), invalidValue(1));
    assert.deepEqual(check('\xff', 'x'), invalidValue(1));
    assert.deepEqual(check('a', '$1'), invalidValue(2));
    assert.deepEqual(check('a', '$'), invalidValue(2));
    assert.deepEqual(check('a', '${1}'), invalidValue(2));
    assert.deepEqual(check('(a)(b)', '${3}'), invalidValue(2));
    assert.deepEqual(check('(a)', '${1'), invalidValue(2));
    assert.deepEqual(check('(a)', '${}'), invalidValue(2));
    assert.deepEqual(check('(a)', '${x}'), invalidValue(2));
    assert.deepEqual(check('(a)', '${99999999999999999999}'), invalidValue(2));
    assert.equal(check('(a)(b)', '${2}${1}${0}$$'), undefined);
    assert.equal(check('(a)', '${1}'.repeat(8)), undefined);
    assert.deepEqual(check('(a)', '${1}'.repeat(9)), invalidValue(2));
    assert.equal(check('(a)', '$$'.repeat(20)), undefined);
    assert.deepEqual(checkCall('regex_replace', [field('Bytes'), field('Bytes'), literal('x')]), invalidKind(1, 'Literal'));
  });

  it('propagates missing', () => {
    assert.equal(bytes('regex_replace', undefined, 'a', 'b'), undefined);
  });
});

describe('wildcard_replace', () => {
  it('rewrites the whole value from the lazy star captures', () => {
    assert.equal(
      bytes(
        'wildcard_replace',
        'https://apps.example.com/calendar/admin?expand=true',
        'https://*.example.com/*/*',
        'https://example.com/${1}/${2}/${3}',
      ),
      'https://example.com/apps/calendar/admin?expand=true',
    );
    assert.equal(
      bytes('wildcard_replace', 'https://example.com/applications/app1', '/applications/*', '/apps/${1}'),
      'https://example.com/applications/app1',
    );
    assert.equal(bytes('wildcard_replace', '/calendar', '/*', '/apps/${1}'), '/apps/calendar');
    assert.equal(bytes('wildcard_replace', '/Apps/calendar', '/apps/*', '/${1}'), '/calendar');
    assert.equal(bytes('wildcard_replace', '/Apps/calendar', '/apps/*', '/${1}', 's'), '/Apps/calendar');
    assert.equal(bytes('wildcard_replace', '/Apps/calendar', '/apps/*', '/${1}', ''), '/calendar');
    assert.equal(bytes('wildcard_replace', '/apps/calendar/login', '/apps/*/login', '/${1}/login'), '/calendar/login');
    assert.equal(bytes('wildcard_replace', '/a/b/c', '/*/*', '${2}|${1}|${0}|$$'), 'b/c|a|/a/b/c|$');
    assert.equal(bytes('wildcard_replace', 'a*b', 'a\\*b', 'star'), 'star');
  });

  it('rejects invalid patterns, templates and flags', () => {
    const check = (...literals: string[]) => checkCall('wildcard_replace', [field('Bytes'), ...literals.map(literal)]);
    assert.deepEqual(check('/**', '/x'), invalidValue(1));
    assert.deepEqual(check('a\\b', '/x'), invalidValue(1));
    assert.deepEqual(check('/*', '${2}'), invalidValue(2));
    assert.deepEqual(check('/*', '$1'), invalidValue(2));
    assert.equal(check('/*', '${1}${0}'), undefined);
    assert.deepEqual(check('/*', '/x', 'i'), invalidValue(3));
    assert.deepEqual(check('/*', '/x', 'S'), invalidValue(3));
    assert.deepEqual(check('/*', '/x', 's', 'x'), invalidCount);
  });

  it('propagates missing', () => {
    assert.equal(bytes('wildcard_replace', undefined, '*', 'x'), undefined);
  });
});

describe('remove_bytes', () => {
  it('removes every byte of the set', () => {
    assert.equal(bytes('remove_bytes', 'www.cloudflare.com', '\x2e\x77'), 'cloudflarecom');
    assert.equal(bytes('remove_bytes', 'abc', ''), 'abc');
    assert.equal(bytes('remove_bytes', 'a]b\\c^d-e', ']\\^-'), 'abcde');
    assert.equal(bytes('remove_bytes', '\x00\xffa\xff', '\xff\x00'), 'a');
    assert.equal(bytes('remove_bytes', 'aaa', 'a'), '');
    assert.equal(bytes('remove_bytes', undefined, 'a'), undefined);
  });
});

describe('remove_query_args', () => {
  it('drops the named arguments and keeps the order of the rest', () => {
    const query = 'order=asc&country=GB';
    assert.equal(bytes('remove_query_args', query, 'country'), 'order=asc');
    assert.equal(bytes('remove_query_args', query, 'order'), 'country=GB');
    assert.equal(bytes('remove_query_args', query, 'search'), query);
    assert.equal(bytes('remove_query_args', 'category=Foo&order=desc&category=Bar', 'order'), 'category=Foo&category=Bar');
    assert.equal(bytes('remove_query_args', 'category=Foo&order=desc&category=Bar', 'category'), 'order=desc');
    assert.equal(bytes('remove_query_args', 'a=1&b=2&c=3', 'a', 'c'), 'b=2');
  });

  it('compares whole names exactly', () => {
    assert.equal(bytes('remove_query_args', 'flag&flag=1&flags=2&Flag=3&x==flag', 'flag'), 'flags=2&Flag=3&x==flag');
    assert.equal(bytes('remove_query_args', 'a&&b', 'a'), '&b');
    assert.equal(bytes('remove_query_args', 'a=1', 'a'), '');
    assert.equal(bytes('remove_query_args', '', 'a'), '');
    assert.equal(bytes('remove_query_args', undefined, 'a'), undefined);
  });
});

describe('to_string', () => {
  it('writes integers, booleans and addresses', () => {
    assert.equal(call('to_string', 'Int', 5), '5');
    assert.equal(call('to_string', 'Int', -5), '-5');
    assert.equal(call('to_string', 'Int', -9223372036854775808n), '-9223372036854775808');
    assert.equal(call('to_string', 'Int', 9007199254740992n), '9007199254740992');
    assert.equal(call('to_string', 'Bool', true), 'true');
    assert.equal(call('to_string', 'Bool', false), 'false');
    assert.equal(call('to_string', 'Ip', ip('10.0.0.1')), '10.0.0.1');
    assert.equal(call('to_string', 'Ip', ip('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
    assert.equal(call('to_string', 'Ip', ip('::ffff:1.2.3.4')), '::ffff:1.2.3.4');
    assert.equal(call('to_string', 'Ip', ip('::')), '::');
  });

  it('takes Int, Bool or Ip and propagates missing', () => {
    assert.deepEqual(checkCall('to_string', [field('Bytes')]), invalidType(0, ['Int', 'Bool', 'Ip']));
    assert.deepEqual(checkCall('to_string', [literal(5)]), invalidKind(0, 'Field'));
    assert.equal(call('to_string', 'Bool', undefined), undefined);
    assert.equal(call('to_string', 'Ip', undefined), undefined);
  });
});

describe('cidr, cidr6', () => {
  it('clears the host bits of the address family', () => {
    assert.deepEqual(call('cidr', 'Ip', ip('113.10.0.2'), 24, 24), ip('113.10.0.0'));
    assert.deepEqual(call('cidr', 'Ip', ip('2001:0000:130F:0000:0000:09C0:876A:130B'), 24, 24), ip('2001::'));
    assert.deepEqual(call('cidr', 'Ip', ip('255.255.255.255'), 32, 128), ip('255.255.255.255'));
    assert.deepEqual(call('cidr', 'Ip', ip('255.255.255.255'), 1, 128), ip('128.0.0.0'));
    assert.deepEqual(call('cidr', 'Ip', ip('::ffff:1.2.3.4'), 8, 96), ip('::ffff:0.0.0.0'));
    assert.deepEqual(call('cidr6', 'Ip', ip('1.2.3.4'), 1), ip('1.2.3.4'));
    assert.deepEqual(call('cidr6', 'Ip', ip('2001:db8:abcd::1'), 32), ip('2001:db8::'));
    assert.equal(call('cidr', 'Ip', undefined, 24, 24), undefined);
    assert.equal(call('cidr6', 'Ip', undefined, 24), undefined);
    assert.equal(definition('cidr').returnType([field('Ip'), literal(1), literal(1)]), 'Ip');
  });

  it('checks the prefix lengths', () => {
    const cidr = (v4: Value, v6: Value) => checkCall('cidr', [field('Ip'), literal(v4), literal(v6)]);
    assert.deepEqual(cidr(33, 24), invalidValue(1));
    assert.deepEqual(cidr(0, 24), invalidValue(1));
    assert.deepEqual(cidr(-1, 24), invalidValue(1));
    assert.deepEqual(cidr(2n ** 63n - 1n, 24), invalidValue(1));
    assert.deepEqual(cidr(24, 129), invalidValue(2));
    assert.deepEqual(cidr(24, 0), invalidValue(2));
    assert.equal(cidr(1, 128), undefined);
    assert.deepEqual(checkCall('cidr6', [field('Ip'), literal(129)]), invalidValue(1));
    assert.deepEqual(checkCall('cidr6', [field('Ip'), literal('24')]), invalidType(1, ['Int']));
    assert.deepEqual(checkCall('cidr', [field('Bytes'), literal(1), literal(1)]), invalidType(0, ['Ip']));
  });
});

describe('decode_base64', () => {
  it('decodes the standard alphabet with optional correct padding', () => {
    assert.equal(bytes('decode_base64', 'MTIzYWJj'), '123abc');
    assert.equal(bytes('decode_base64', ''), '');
    assert.equal(bytes('decode_base64', 'QQ=='), 'A');
    assert.equal(bytes('decode_base64', 'QQ'), 'A');
    assert.equal(bytes('decode_base64', 'QUI='), 'AB');
    assert.equal(bytes('decode_base64', 'QUI'), 'AB');
    assert.equal(bytes('decode_base64', '//79'), '\xff\xfe\xfd');
    assert.equal(bytes('decode_base64', '+/+/'), '\xfb\xff\xbf');
  });

  it('is missing for other characters or impossible lengths', () => {
    const invalid = ['Q', 'QQ=', 'QQ===', 'Q===', '=', '==', 'QUJD=', 'QUJDRA=', 'QU JD', 'QUJD\n', '-_-_', 'QQ==QQ==', 'Q=Q=', 'QUJD\xff'];
    for (const encoded of invalid) {
      assert.equal(bytes('decode_base64', encoded), undefined, encoded);
    }
    assert.equal(bytes('decode_base64', undefined), undefined);
  });
});

describe('join', () => {
  it('joins the elements with the separator', () => {
    const joinNames = (names: MaybeValue) => call('join', 'Array<Bytes>', names, ',');
    assert.equal(joinNames(['Host', 'Accept']), 'Host,Accept');
    assert.equal(joinNames(['Host']), 'Host');
    assert.equal(joinNames([]), '');
    assert.equal(joinNames(['', '']), ',');
    assert.equal(joinNames(undefined), undefined);
    assert.equal(call('join', 'Array<Bytes>', ['a', 'b'], ''), 'ab');
  });

  it('takes an array of Bytes', () => {
    assert.deepEqual(checkCall('join', [field('Array<Int>'), literal(',')]), invalidType(0, ['Array<Bytes>']));
    assert.deepEqual(checkCall('join', [field('Bytes'), literal(',')]), invalidType(0, ['Array<Bytes>']));
  });
});

describe('split', () => {
  it('splits at most limit times, keeping empty fields and the remainder', () => {
    const value = 'groceries,electronics,diy,auto';
    assert.deepEqual(bytes('split', value, ',', 64), ['groceries', 'electronics', 'diy', 'auto']);
    assert.deepEqual(bytes('split', value, ',', 3), ['groceries', 'electronics', 'diy,auto']);
    assert.deepEqual(bytes('split', value, ',', 1), [value]);
    assert.deepEqual(bytes('split', 'groceries,,electronics', ',', 64), ['groceries', '', 'electronics']);
    assert.deepEqual(bytes('split', ',a,', ',', 128), ['', 'a', '']);
    assert.deepEqual(bytes('split', '', ',', 4), ['']);
    assert.deepEqual(bytes('split', 'a::b:::c', '::', 10), ['a', 'b', ':c']);
    assert.equal(bytes('split', undefined, ',', 4), undefined);
    assert.equal(definition('split').returnType([field('Bytes'), literal(','), literal(2)]), 'Array<Bytes>');
  });

  it('checks the separator and the limit', () => {
    const check = (separator: Value, limit: Value) => checkCall('split', [field('Bytes'), literal(separator), literal(limit)]);
    assert.deepEqual(check('', 4), invalidValue(1));
    assert.deepEqual(check(',', 0), invalidValue(2));
    assert.deepEqual(check(',', 129), invalidValue(2));
    assert.deepEqual(check(',', -1), invalidValue(2));
    assert.equal(check(',', 1), undefined);
    assert.equal(check(',', 128), undefined);
  });
});

describe('substring', () => {
  const sub = (...indexes: Value[]) => bytes('substring', 'asdfghjk', ...indexes);

  it('slices by byte index, negative from the end', () => {
    assert.equal(sub(2, 5), 'dfg');
    assert.equal(sub(2), 'dfghjk');
    assert.equal(sub(-2), 'jk');
    assert.equal(sub(0, -2), 'asdfgh');
    assert.equal(sub(-3, -1), 'hj');
    assert.equal(bytes('substring', '\xc3\xa9t\xc3\xa9', 1, 4), '\xa9t\xc3');
  });

  it('clamps indexes and gives the empty string when end ≤ start', () => {
    assert.equal(sub(5, 2), '');
    assert.equal(sub(3, 3), '');
    assert.equal(sub(-100), 'asdfghjk');
    assert.equal(sub(0, 100), 'asdfghjk');
    assert.equal(sub(100), '');
    assert.equal(sub(-100, -50), '');
    assert.equal(sub(9223372036854775807n), '');
    assert.equal(sub(-9223372036854775808n, 9223372036854775807n), 'asdfghjk');
    assert.equal(bytes('substring', '', 0, 1), '');
    assert.equal(bytes('substring', undefined, 0), undefined);
  });

  it('takes literal Int indexes', () => {
    assert.deepEqual(checkCall('substring', [field('Bytes'), field('Int')]), invalidKind(1, 'Literal'));
    assert.deepEqual(checkCall('substring', [field('Bytes'), literal(0), literal('1')]), invalidType(2, ['Int']));
  });
});

describe('uuidv4', () => {
  it('formats the first 16 bytes with the version and variant bits', () => {
    assert.equal(bytes('uuidv4', hex('000102030405060708090a0b0c0d0e0f')), '00010203-0405-4607-8809-0a0b0c0d0e0f');
    assert.equal(bytes('uuidv4', hex('ffffffffffffffffffffffffffffffffee')), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
    assert.equal(bytes('uuidv4', hex('000102030405060708090a0b0c0d0e')), undefined);
    assert.equal(bytes('uuidv4', undefined), undefined);
  });
});

describe('is_timed_hmac_valid_v0', () => {
  const key = 'mysecrettoken';
  const mac = (message: string, timestamp: number, encoding: 'base64' | 'base64url') =>
    createHmac('sha256', key).update(`${message}${timestamp}`).digest(encoding);
  const token = (message: string, separator: string, timestamp: number) =>
    `${message}${separator}${timestamp}-${encodeURIComponent(mac(message, timestamp, 'base64'))}`;

  const verifier = (ttl: number, ...optional: Value[]) =>
    compile('is_timed_hmac_valid_v0', [literal(key), field('Bytes'), literal(ttl), field('Int'), ...optional.map(literal)]);

  it('accepts a fresh token with a URL-encoded standard MAC', () => {
    const message = '/download/cat.jpg';
    const valid = token(message, '?verify=', 1484063787);
    assert.match(valid, /%2[BF3]|%3D/i);
    const verify = verifier(10800, 8);
    assert.equal(verify(key, valid, 10800, 1484063787 + 10800), true);
    assert.equal(verify(key, valid, 10800, 1484063787), true);
    assert.equal(verify(key, valid, 10800, 1484063787 + 10801), false);
    assert.equal(verifier(10800)(key, valid, 10800, 1484063787), false);
  });

  it('accepts a URL-safe MAC without padding with flags "s"', () => {
    const message = 'user=42';
    const timestamp = 1700000000;
    const urlSafe = `${message}${timestamp}-${mac(message, timestamp, 'base64url')}`;
    assert.equal(verifier(60, 0, 's')(key, urlSafe, 60, timestamp + 1), true);
    assert.equal(verifier(60, 0, '')(key, urlSafe, 60, timestamp + 1), false);
  });

  it('rejects tampered messages, MACs and timestamps', () => {
    const valid = token('/a-b', '', 1484063787);
    const verify = verifier(100);
    const now = 1484063787n;
    assert.equal(verify(key, valid, 100, now), true);
    assert.equal(verify(key, valid.replace('/a-b', '/a-c'), 100, now), false);
    assert.equal(verify(key, valid.replace('1484063787', '1484063788'), 100, now), false);
    assert.equal(verify(key, valid.slice(0, -4), 100, now), false);
    assert.equal(verify(key, valid.slice(2), 100, now), false);
    assert.equal(verify(key, 'garbage', 100, now), false);
    assert.equal(verify(key, '', 100, now), false);
    assert.equal(verifier(100, 8)(key, valid, 100, now), false);
  });

  it('is missing when the token or the time is', () => {
    assert.equal(verifier(100)(key, undefined, 100, 1), undefined);
    assert.equal(verifier(100)(key, 'x', 100, undefined), undefined);
  });

  it('checks its arguments', () => {
    const check = (...params: Param[]) => checkCall('is_timed_hmac_valid_v0', params);
    assert.equal(check(literal(key), field('Bytes'), literal(1), literal(5)), undefined);
    assert.deepEqual(check(field('Bytes'), field('Bytes'), literal(1), field('Int')), invalidKind(0, 'Literal'));
    assert.deepEqual(check(literal(key), literal('x'), literal(1), field('Int')), invalidKind(1, 'Field'));
    assert.deepEqual(check(literal(key), field('Bytes'), literal(1), field('Bytes')), invalidType(3, ['Int']));
    assert.deepEqual(check(literal(key), field('Bytes'), literal(1), field('Int'), literal(-1)), invalidValue(4));
    assert.deepEqual(check(literal(key), field('Bytes'), literal(1), field('Int'), literal(0), literal('x')), invalidValue(5));
    assert.equal(definition('is_timed_hmac_valid_v0').returnType([]), 'Bool');
  });
});
