// Wildcard patterns (SPEC.md 7.5) and the lazy star captures wildcard_replace uses (11.6).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileWildcard, WildcardSyntaxError } from '../../src/rules/wildcard.ts';

const wildcard = (pattern: string) => compileWildcard(pattern, { caseSensitive: false });
const strict = (pattern: string) => compileWildcard(pattern, { caseSensitive: true });

/** The star captures as strings (pair 0, the whole value, left out). */
function starTexts(pattern: string, value: string, caseSensitive = false): string[] | null {
  const positions = compileWildcard(pattern, { caseSensitive }).captures(value);
  if (positions === null) return null;
  assert.deepEqual(positions.slice(0, 2), [0, value.length]);
  const texts: string[] = [];
  for (let i = 2; i < positions.length; i += 2) texts.push(value.slice(positions[i], positions[i + 1]));
  return texts;
}

describe('wildcard syntax', () => {
  it('rejects escapes other than \\* and \\\\, a trailing backslash and **', () => {
    for (const pattern of ['*foo\\bar*', 'a\\', '\\', '*foo**bar*', '**', 'a\\n', '\\?']) {
      assert.throws(() => wildcard(pattern), WildcardSyntaxError, pattern);
    }
  });

  it('says what is wrong', () => {
    assert.throws(() => wildcard('ab\\x'), /invalid escape "\\\\x" at offset 2/);
    assert.throws(() => wildcard('a**'), /"\*\*" at offset 1/);
    assert.throws(() => wildcard('a\\'), /lone "\\"/);
  });

  it('accepts an escaped star next to a star', () => {
    assert.equal(wildcard('*\\**').starCount, 2);
    assert.equal(wildcard('\\**').test('*abc'), true);
    assert.equal(wildcard('\\**').test('abc'), false);
  });

  it('enforces the star limit', () => {
    assert.equal(compileWildcard('*_*_*', { caseSensitive: false, starLimit: 3 }).starCount, 3);
    assert.throws(
      () => compileWildcard('*_*_*_*', { caseSensitive: false, starLimit: 3 }),
      /4 stars, more than the limit of 3/,
    );
    assert.equal(compileWildcard('*_*_*_*', { caseSensitive: false, starLimit: null }).starCount, 4);
    // Escaped stars are not stars.
    assert.equal(compileWildcard('\\*\\*\\*\\*', { caseSensitive: false, starLimit: 0 }).test('****'), true);
  });
});

describe('wildcard matching', () => {
  it('matches the escape table of the vectors', () => {
    // r"foo*\*\\" = foo, star, literal star, literal backslash
    const pattern = 'foo*\\*\\\\';
    for (const [value, insensitive, sensitive] of [
      ['foo*\\', true, true],
      ['foo*', false, false],
      ['foo\\', false, false],
      ['Foo*\\', true, false],
      ['foobarmumble*\\', true, true],
      ['foobarmumble\\', false, false],
    ] as const) {
      assert.equal(wildcard(pattern).test(value), insensitive, value);
      assert.equal(strict(pattern).test(value), sensitive, value);
    }
    assert.equal(wildcard('foo?*\\*\\\\').test('foo?bar*\\'), true);
    assert.equal(wildcard('foo?*\\*\\\\').test('foo?x\\'), false);
  });

  it('matches the whole value', () => {
    assert.equal(wildcard('*.example.com').test('a.b.example.com'), true);
    assert.equal(wildcard('*.example.com').test('example.com'), false);
    assert.equal(wildcard('https://example.com/a/*').test('https://example.com/a/'), true);
    assert.equal(wildcard('https://example.com/a/*').test('https://example.com/a/sub/?x=1'), true);
    assert.equal(wildcard('https://example.com/a/*').test('https://example.com/ab/'), false);
    assert.equal(wildcard('example.com/*').test('https://example.com/folder/list.htm'), false);
    assert.equal(wildcard('abc').test('abcd'), false);
    assert.equal(wildcard('abc').test('xabc'), false);
    assert.equal(wildcard('').test(''), true);
    assert.equal(wildcard('').test('a'), false);
    assert.equal(wildcard('*').test(''), true);
  });

  it('lets a star match slashes and newlines but keeps ? literal', () => {
    assert.equal(wildcard('a*b').test('a/\n/b'), true);
    assert.equal(wildcard('?').test('?'), true);
    assert.equal(wildcard('?').test('x'), false);
  });

  it('does not let segments overlap', () => {
    assert.equal(wildcard('ab*ba').test('aba'), false);
    assert.equal(wildcard('ab*ba').test('abba'), true);
    assert.equal(wildcard('a*a*a').test('aa'), false);
    assert.equal(wildcard('a*a*a').test('aaa'), true);
    // A middle segment must end before the suffix starts.
    assert.equal(wildcard('*ab*bc').test('xabc'), false);
    assert.equal(wildcard('*ab*bc').test('xabbc'), true);
  });

  it('folds ASCII letters only', () => {
    assert.equal(wildcard('a').test('A'), true);
    assert.equal(strict('a').test('A'), false);
    assert.equal(wildcard('/ARTICLES/*').test('/articles/2008'), true);
    // é is C3 A9, É is C3 89: no folding of non-ASCII bytes.
    assert.equal(wildcard('\xc3\xa9*').test('\xc3\x89x'), false);
    // Latin-1 letters as raw bytes are not letters either.
    assert.equal(wildcard('\xe9').test('\xc9'), false);
    assert.equal(wildcard('\xe9A*').test('\xe9abc'), true);
    assert.equal(wildcard('*Z').test('\xc9\xffz'), true);
  });

  it('matches non-UTF-8 bytes exactly', () => {
    assert.equal(strict('\xaa"').test('\xaa"'), true);
    assert.equal(wildcard('\xc2\xaf\\\\_(\xe3\x83\x84*)_/\xc2\xaf').test('\xc2\xaf\\_(\xe3\x83\x84)_/\xc2\xaf'), true);
  });

  it('stays linear with many stars against a long near miss', () => {
    const value = 'a'.repeat(200_000);
    const started = performance.now();
    assert.equal(wildcard(`*${'a*'.repeat(2000)}b*`).test(value), false);
    assert.equal(wildcard(`*${'a*'.repeat(2000)}b`).test(value), false);
    assert.equal(strict(`${'*aa'.repeat(500)}*ab*`).test(value), false);
    assert.equal(wildcard(`${'*A'.repeat(2000)}*`).captures(value)?.length, 2 + 2 * 2001);
    assert.ok(performance.now() - started < 1000, 'took too long');
  });

  it('agrees with a regular-expression reference', () => {
    const valueChar = fc.constantFrom('a', 'A', 'b', '/', '\n', '\xe9', '\xc9', '*', '\\', '?');
    const text = fc.array(valueChar, { maxLength: 6 }).map((chars) => chars.join(''));
    const patternPart = fc.constantFrom('a', 'B', 'ab', '/', '\xe9', '?', '*', '*', '\\*', '\\\\');
    // Half the values instantiate the pattern (each star replaced by some text, the case of some
    // literal parts swapped), so that matches are frequent; the others are arbitrary.
    const instance = (parts: readonly string[]) => {
      const perPart = { minLength: parts.length, maxLength: parts.length };
      return fc.tuple(fc.array(text, perPart), fc.array(fc.boolean(), perPart)).map(([fillers, swaps]) =>
        parts
          .map((part, i) => (part === '*' ? fillers[i] : swaps[i] ? swapAsciiCase(unescape(part)) : unescape(part)))
          .join(''),
      );
    };
    const cases = fc
      .array(patternPart, { maxLength: 8 })
      .chain((parts) => fc.tuple(fc.constant(parts), fc.oneof(text, instance(parts)), fc.boolean()));
    fc.assert(
      fc.property(cases, ([parts, value, caseSensitive]) => {
        const pattern = parts.join('');
        if (parts.some((part, i) => part === '*' && parts[i + 1] === '*')) {
          assert.throws(() => compileWildcard(pattern, { caseSensitive }), WildcardSyntaxError);
          return;
        }
        const compiled = compileWildcard(pattern, { caseSensitive });
        const reference = referenceRegExp(parts, caseSensitive, false);
        assert.equal(compiled.test(value), reference.test(value), `${JSON.stringify(pattern)} ${JSON.stringify(value)}`);
        const lazy = referenceRegExp(parts, caseSensitive, true).exec(value);
        assert.deepEqual(starTexts(pattern, value, caseSensitive), lazy === null ? null : lazy.slice(1));
      }),
      { numRuns: 3000 },
    );
  });
});

const unescape = (part: string): string => (part === '\\*' ? '*' : part === '\\\\' ? '\\' : part);
const swapAsciiCase = (text: string): string =>
  text.replace(/[a-z]/gi, (letter) => (letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase()));

/** `^…$` with `.*` for each star (lazy and captured when `lazy`), letters folded by hand (ASCII only). */
function referenceRegExp(parts: readonly string[], caseSensitive: boolean, lazy: boolean): RegExp {
  let source = '^';
  for (const part of parts) {
    if (part === '*') {
      source += lazy ? '([\\s\\S]*?)' : '[\\s\\S]*';
      continue;
    }
    for (const char of unescape(part)) {
      if (!caseSensitive && /[a-z]/i.test(char)) source += `[${char.toLowerCase()}${char.toUpperCase()}]`;
      else source += `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  }
  return new RegExp(`${source}$`);
}

describe('wildcard captures', () => {
  it('gives each star the shortest text that still matches, left to right', () => {
    assert.deepEqual(starTexts('https://*.example.com/*/*', 'https://apps.example.com/calendar/admin?expand=true'), [
      'apps',
      'calendar',
      'admin?expand=true',
    ]);
    assert.deepEqual(starTexts('/*/*', '/a/b/c'), ['a', 'b/c']);
    assert.deepEqual(starTexts('*a*', 'banana'), ['b', 'nana']);
    assert.deepEqual(starTexts('*a', 'banana'), ['banan']);
    assert.deepEqual(starTexts('*', ''), ['']);
    assert.deepEqual(starTexts('/apps/*', '/Apps/calendar'), ['calendar']);
    assert.equal(starTexts('/apps/*', '/Apps/calendar', true), null);
  });

  it('reports the whole value as pair 0 for a pattern without stars', () => {
    assert.deepEqual(wildcard('Abc').captures('aBC'), [0, 3]);
    assert.equal(wildcard('abc').captures('abd'), null);
  });
});
