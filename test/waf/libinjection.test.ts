// libinjection port: the 480 upstream unit tests (tokens, folding, fingerprints, HTML tokens),
// the C library's verdicts on 24,501 inputs (../shared/libinjection/reference-verdicts.jsonl,
// per-context detail included), and a few cases worth naming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { detectSqli, detectXss } from '../../src/waf/libinjection/index.ts';
import { checkVerdict, inputBytes, parseVerdictLine } from '../../src/waf/libinjection/conformance.ts';
import { TOKEN_VECTOR_SIZE, foldTokens } from '../../src/waf/libinjection/sqli-fold.ts';
import { SqliFingerprinter } from '../../src/waf/libinjection/sqli.ts';
import { MAX_TOKEN_LENGTH, SqlToken, SqliFlags, SqliTokenizer, TokenType } from '../../src/waf/libinjection/sqli-tokenizer.ts';
import { HTML5_TOKEN_TYPE_NAMES, Html5Context, Html5Tokenizer } from '../../src/waf/libinjection/html5-tokenizer.ts';
import { isXssInContext } from '../../src/waf/libinjection/xss.ts';

const SHARED = new URL('../../../shared/libinjection/', import.meta.url);
const UPSTREAM_TESTS = new URL('upstream-tests/', SHARED);
const REFERENCE = new URL('reference-verdicts.jsonl', SHARED);
const noUpstreamTests = existsSync(UPSTREAM_TESTS) ? false : 'skipped: ../shared/libinjection/upstream-tests/ is not present';
const noReference = existsSync(REFERENCE) ? false : 'skipped: ../shared/libinjection/reference-verdicts.jsonl is not present';

/** Binary string (one char per byte) of a UTF-8 text. */
function bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Text up to its first NUL, as the C test driver prints it. */
function untilNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

function quoteChar(code: number): string {
  return code === 0 ? '' : String.fromCharCode(code);
}

/** One token as upstream's test driver prints it. */
function formatToken(tok: SqlToken): string {
  const value = untilNul(tok.value());
  const type = String.fromCharCode(tok.type);
  if (tok.type === TokenType.STRING) return `${type} ${quoteChar(tok.open)}${value}${quoteChar(tok.close)}`;
  if (tok.type === TokenType.VARIABLE) return `${type} ${'@'.repeat(tok.count)}${quoteChar(tok.open)}${value}${quoteChar(tok.close)}`;
  return `${type} ${value}`;
}

interface UpstreamTest {
  readonly name: string;
  readonly input: string;
  readonly expected: string;
}

/** Strips trailing spaces, tabs, CRs and LFs. */
function trimEnd(text: string): string {
  return text.replace(/[ \t\r\n]+$/, '');
}

/** Parses an upstream test file read as a binary string (README.md, "upstream-tests"). */
function parseUpstreamTest(name: string, text: string): UpstreamTest {
  const lines = text.split('\n');
  const marker = (m: string): number => {
    const i = lines.findIndex((line) => line.replace(/\r$/, '') === m);
    assert.notEqual(i, -1, `${name}: no ${m} line`);
    return i;
  };
  const inputLine = marker('--INPUT--');
  const expectedLine = marker('--EXPECTED--');
  return {
    name,
    input: trimEnd(lines.slice(inputLine + 1, expectedLine).join('\n')),
    expected: trimEnd(lines.slice(expectedLine + 1).join('\n')),
  };
}

function sqlTokens(input: string): string {
  const tokenizer = new SqliTokenizer();
  tokenizer.reset(input, SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI);
  const tok = new SqlToken();
  const lines: string[] = [];
  while (tokenizer.next(tok)) lines.push(formatToken(tok));
  return lines.join('\n');
}

function foldedTokens(input: string): string {
  const tokenizer = new SqliTokenizer();
  tokenizer.reset(input, SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI);
  const tv = Array.from({ length: TOKEN_VECTOR_SIZE }, () => new SqlToken());
  const count = foldTokens(tokenizer, tv, new SqlToken());
  return tv.slice(0, count).map(formatToken).join('\n');
}

function html5Tokens(input: string): string {
  const tokenizer = new Html5Tokenizer();
  tokenizer.reset(input, Html5Context.DATA);
  const lines: string[] = [];
  while (tokenizer.next()) lines.push(`${HTML5_TOKEN_TYPE_NAMES[tokenizer.tokenType]},${tokenizer.tokenLength},${untilNul(tokenizer.tokenText())}`);
  return lines.join('\n');
}

const RUNNERS: readonly (readonly [prefix: string, run: (input: string) => string])[] = [
  ['test-tokens-', sqlTokens],
  ['test-folding-', foldedTokens],
  ['test-sqli-', (input) => detectSqli(input).fingerprint ?? ''],
  ['test-html5-', html5Tokens],
];

test('the 480 upstream unit tests', { skip: noUpstreamTests }, () => {
  const files = readdirSync(UPSTREAM_TESTS).filter((name) => name.endsWith('.txt')).sort();
  const failures: string[] = [];
  let passed = 0;
  for (const name of files) {
    const runner = RUNNERS.find(([prefix]) => name.startsWith(prefix));
    assert.ok(runner, `${name}: unknown kind of test`);
    const unit = parseUpstreamTest(name, readFileSync(new URL(name, UPSTREAM_TESTS)).toString('latin1'));
    // Expected texts lost their trailing blanks (an empty last value leaves one): compare alike.
    const actual = trimEnd(runner[1](unit.input));
    if (actual === unit.expected) passed++;
    else failures.push(`${name}: input ${JSON.stringify(unit.input)}\n  expected ${JSON.stringify(unit.expected)}\n  actual   ${JSON.stringify(actual)}`);
  }
  if (failures.length > 0) console.log(failures.join('\n'));
  console.log(`upstream unit tests: ${passed} of ${files.length} passed`);
  assert.equal(files.length, 480);
  assert.deepEqual(failures, []);
});

/** Fingerprint of one context pass, `*` appended when that pass says SQLi (the sqli_ctx format). */
const SQLI_CONTEXTS = [
  SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI,
  SqliFlags.QUOTE_NONE | SqliFlags.SQL_MYSQL,
  SqliFlags.QUOTE_SINGLE | SqliFlags.SQL_ANSI,
  SqliFlags.QUOTE_SINGLE | SqliFlags.SQL_MYSQL,
  SqliFlags.QUOTE_DOUBLE | SqliFlags.SQL_MYSQL,
];
const XSS_CONTEXTS = [Html5Context.DATA, Html5Context.VALUE_NO_QUOTE, Html5Context.VALUE_SINGLE_QUOTE, Html5Context.VALUE_DOUBLE_QUOTE, Html5Context.VALUE_BACK_QUOTE];

test('the C library verdicts (reference-verdicts.jsonl), per context too', { skip: noReference }, () => {
  const fingerprinter = new SqliFingerprinter();
  const disagreements: string[] = [];
  let agreed = 0;
  let total = 0;
  let contextDisagreements = 0;
  for (const text of readFileSync(REFERENCE, 'utf8').split('\n')) {
    if (text === '') continue;
    total++;
    const line = parseVerdictLine(text);
    const check = checkVerdict(line);
    if (check.passed === true) agreed++;
    else disagreements.push(`${JSON.stringify(line.input)}${line.encoding === undefined ? '' : ` (${line.encoding})`}: ${check.problems.join('; ')}`);

    const reference = JSON.parse(text) as { sqli_ctx: readonly string[]; xss_ctx: string };
    const input = inputBytes(line);
    const sqliContexts = SQLI_CONTEXTS.map((flags) => {
      fingerprinter.fingerprint(input, flags);
      return fingerprinter.fingerprintString() + (fingerprinter.isSqli() ? '*' : '');
    });
    const xssContexts = XSS_CONTEXTS.map((context) => (isXssInContext(input, context) ? '1' : '0')).join('');
    if (JSON.stringify(sqliContexts) !== JSON.stringify(reference.sqli_ctx) || xssContexts !== reference.xss_ctx) {
      contextDisagreements++;
      if (contextDisagreements <= 20) {
        disagreements.push(`${JSON.stringify(line.input)}: contexts ${JSON.stringify(sqliContexts)} ${xssContexts}, reference ${JSON.stringify(reference.sqli_ctx)} ${reference.xss_ctx}`);
      }
    }
  }
  if (disagreements.length > 0) console.log(disagreements.join('\n'));
  console.log(`reference verdicts: ${agreed} of ${total} agree; per-context detail differs on ${contextDisagreements}`);
  assert.equal(total, 24501);
  assert.ok(agreed >= Math.ceil(total * 0.999), `${agreed} of ${total} agree, below 99.9%`);
  assert.ok(contextDisagreements <= total - Math.ceil(total * 0.999), `per-context detail differs on ${contextDisagreements} inputs`);
});

test('SQLi: the worked examples of ALGORITHM.md §1.11', () => {
  const cases: readonly (readonly [string, string | null])[] = [
    ["1' or '1'='1", 's&sos'],
    ['1 union select 1', '1UE1'],
    ["admin'--", 'sc'],
    ['1 --x', '1c'],
    ['1 #x', null],
    ['/*!select*/ 1', 'X'],
    ['{``.``.id}', 'X'],
    ['IF(1=1)', 'f(1)'],
    ['1;ifnull(1)', '1;T(1'],
    ['1\xa0--', '1c'],
    ["'a' or 'b'", null],
    ["admin'-- ", null],
    ['', null],
    ['hello world', null],
  ];
  for (const [input, fingerprint] of cases) {
    assert.deepEqual(detectSqli(input), { sqli: fingerprint !== null, fingerprint }, JSON.stringify(input));
  }
});

test('SQLi: the input is bytes: a UTF-8 word is one bareword, high bytes are not whitespace but 0xA0 is', () => {
  const tokenizer = new SqliTokenizer();
  const tok = new SqlToken();
  tokenizer.reset(bytes('SELECT テスト'), SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI);
  assert.ok(tokenizer.next(tok));
  assert.equal(formatToken(tok), 'E SELECT');
  assert.ok(tokenizer.next(tok));
  assert.equal(tok.type, TokenType.BAREWORD);
  assert.equal(tok.len, 9);
  assert.equal(tokenizer.next(tok), false);
  // 0xA0 separates words; 0xA1 does not
  assert.equal(detectSqli('1\xa0UNION\xa0SELECT\xa02--').fingerprint, '1UE1c');
  assert.equal(detectSqli('1\xa1UNION\xa1SELECT\xa12--').sqli, false);
});

test('SQLi: token values are capped at 31 bytes, and the cap shows in the verdicts', () => {
  const tokenizer = new SqliTokenizer();
  const tok = new SqlToken();
  tokenizer.reset(`'${'a'.repeat(40)}'`, SqliFlags.QUOTE_NONE | SqliFlags.SQL_ANSI);
  assert.ok(tokenizer.next(tok));
  assert.equal(MAX_TOKEN_LENGTH, 31);
  assert.equal(tok.len, MAX_TOKEN_LENGTH);
  assert.equal(tok.close, 0x27);
  assert.equal(tokenizer.p, 42);
  // `1234 --` is SQLi because the byte at index len(number) is a space; for a 35-digit number
  // that index is 31 (the capped length), a digit, so the C library lets it through.
  assert.equal(detectSqli(`${'1'.repeat(31)} --`).fingerprint, '1c');
  assert.equal(detectSqli(`${'1'.repeat(35)} --`).sqli, false);
});

test('SQLi: repeated calls reuse state without leaking between inputs', () => {
  assert.equal(detectSqli('1 union select 1').fingerprint, '1UE1');
  assert.equal(detectSqli('hello').sqli, false);
  assert.equal(detectSqli('1 union select 1').fingerprint, '1UE1');
});

test('XSS: the worked examples of ALGORITHM.md §2.7', () => {
  const cases: readonly (readonly [string, boolean])[] = [
    ['<script>alert(1)</script>', true],
    ['<img src=x onerror=alert(1)>', true],
    ['" onfocus="alert(1)', true],
    ['onload=alert(1)', true],
    ['<a href="&#x14A;avascript:x">', true],
    ['<a href="&#x16A;avascript:x">', false],
    ['<a href="jav&#x0A;ascript:x">', true],
    ['<a href="jav&#x09;ascript:x">', false],
    ['<x style=>', true],
    ['<!DOCTYPE html>', true],
    ['<?xml version="1.0"?>', true],
    ['</script foo>', true],
    ['</><script>alert(1)</script>', true],
    ['<b>bold</b>', false],
    ['<a href="/javascript">', false],
    ['hello world', false],
  ];
  for (const [input, xss] of cases) assert.equal(detectXss(input), xss, JSON.stringify(input));
  // `</>` leaves the tokenizer expecting a closing tag, so only the NO_QUOTE context sees the script
  assert.equal(isXssInContext('</><script>alert(1)</script>', Html5Context.DATA), false);
  assert.equal(isXssInContext('</><script>alert(1)</script>', Html5Context.VALUE_NO_QUOTE), true);
});

test('XSS: a 0xFF byte where whitespace is skipped ends the input (the reference reads a signed char)', () => {
  assert.equal(detectXss('<a \xffonclick=alert(1)>'), false);
  assert.equal(detectXss('<a \xfeonclick=alert(1)>'), false);
  assert.equal(detectXss('<a onclick=alert(1)>'), true);
});
