// The rules language's regex engine (SPEC.md 7.4): the Rust regex crate's dialect in bytes mode,
// leftmost-first captures, linear time. Expected results were checked against the Rust crate
// (regex-automata's meta regex configured as wirefilter configures it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MultiSearch } from '../../src/rules/multi-search.ts';
import { compileRegex, RegexSyntaxError } from '../../src/rules/regex/index.ts';

/** The UTF-8 bytes of a text, as a byte string (the haystack representation). */
const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const matches = (pattern: string, haystack: string) => compileRegex(pattern).test(haystack);
const captures = (pattern: string, haystack: string) => compileRegex(pattern).captures(haystack);

function rejects(pattern: string, message?: RegExp): void {
  assert.throws(
    () => compileRegex(pattern),
    (error: unknown) => {
      assert.ok(error instanceof RegexSyntaxError, `${pattern}: ${String(error)}`);
      if (message) assert.match(error.message, message, pattern);
      assert.match(error.message, /at character/, pattern);
      return true;
    },
    pattern,
  );
}

describe('syntax that compiles', () => {
  it('accepts the dialect of the Rust regex crate', () => {
    for (const pattern of [
      '',
      'a|b|',
      '(a)(?:b)(?P<x>c)(?<y>d)(?<a.b[0]>e)',
      '[a-z0-9_]',
      '[^a]',
      '[a[bc]]',
      '[]a]',
      '[-a]',
      '[a-]',
      '[a-z&&[^aeiou]]',
      '[a-c--b]',
      '[a-c~~b-d]',
      '[[:alpha:][:^digit:]]',
      '[:alpha:]', // a class of ':', 'a', 'l', 'p', 'h'
      'a* a+ a? a{2} a{2,} a{2,5} a*? a+? a?? a{2}? a{2,}? a{2,5}?',
      'a{ 2 , 3 }',
      '\\a\\f\\t\\n\\r\\v\\x7F\\x{10FFFF}\\u007F\\u{7F}\\U0000007F\\U{7F}',
      '\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$\\#\\&\\-\\~\\/\\"\\ ',
      '\\A\\z\\b\\B^$\\<\\>\\b{start}\\b{end}\\b{start-half}\\b{end-half}',
      '(?i)a(?-i)b(?ismxU-u:c)(?u)d(?R)',
      '(?x) a b # a comment\n c',
      '\\d\\D\\s\\S\\w\\W[\\d\\s]',
      '(?u)\\pL\\p{Greek}\\PL\\P{Greek}\\p{sc=Cyrillic}\\p{Script_Extensions=Greek}\\p{gc!=L}\\p{Lu}\\p{Is_Latin}',
      '\\bx{2}', // a repeated assertion
      'a**', // nested repetition, as Rust reads it
      'a++', // likewise (a+)+: Rust has no possessive quantifiers
      'a{4294967295}{0}',
      '}]',
    ]) {
      assert.doesNotThrow(() => compileRegex(pattern), pattern);
    }
  });

  it('counts capture groups, not group 0', () => {
    assert.equal(compileRegex('a').groupCount, 0);
    assert.equal(compileRegex('(a)(?:b)(?P<n>c)((d)|e)').groupCount, 4);
    // As in Rust: a group repeated {0} is dropped, and only trailing ones change the count.
    assert.equal(compileRegex('(a){0}').groupCount, 0);
    assert.equal(compileRegex('(a){0}(b)').groupCount, 2);
  });

  it('keeps the source', () => {
    assert.equal(compileRegex('^a.b$').source, '^a.b$');
  });
});

describe('syntax errors', () => {
  it('rejects backreferences, look-around, atomic groups and recursion', () => {
    rejects('(a)\\1', /backreferences are not supported/);
    rejects('\\0');
    rejects('a(?=b)', /look-around/);
    rejects('a(?!b)', /look-around/);
    rejects('(?<=a)b', /look-around/);
    rejects('(?<!a)b', /look-around/);
    rejects('(?>a)', /unrecognized flag/);
    rejects('(?1)', /unrecognized flag/);
    rejects('(?&name)', /unrecognized flag/);
    rejects('(?P>name)', /unrecognized flag/);
    rejects('(?P=name)', /unrecognized flag/);
    rejects('\\k<name>', /unrecognized escape/);
    rejects('\\g{1}', /unrecognized escape/);
  });

  it('rejects unbalanced groups', () => {
    rejects('(', /unclosed group/);
    rejects('(a|b', /unclosed group/);
    rejects('(?:a', /unclosed group/);
    rejects(')', /unopened group/);
    rejects('a)', /unopened group/);
    rejects('(?', /unclosed group/);
  });

  it('rejects bad repetitions', () => {
    rejects('a{2,1}', /start must be <= the end/);
    rejects('*a', /repetition operator missing expression/);
    rejects('+', /repetition operator missing expression/);
    rejects('a|?', /repetition operator missing expression/);
    rejects('(*)', /repetition operator missing expression/);
    rejects('(?i)*', /repetition operator missing expression/);
    rejects('(?)', /repetition operator missing expression/);
    rejects('{2}', /repetition operator missing expression/);
    rejects('a{', /unclosed counted repetition/);
    rejects('a{2', /unclosed counted repetition/);
    rejects('a{2x}', /unclosed counted repetition/);
    rejects('a{x}', /expects a valid decimal/);
    rejects('a{,5}', /expects a valid decimal/);
    rejects('a{4294967296}', /decimal literal invalid/);
  });

  it('rejects unknown or malformed escapes', () => {
    for (const pattern of ['\\e', '\\q', '\\Q', '\\h', '\\R', '\\X', '\\é', '\\']) rejects(pattern);
    rejects('\\xZZ', /invalid hexadecimal digit/);
    rejects('\\x{}', /hexadecimal literal is empty/);
    rejects('\\u{D800}', /not a Unicode scalar value/);
    rejects('\\x{110000}', /not a Unicode scalar value/);
    rejects('\\b{middle}', /unrecognized special word boundary/);
    rejects('\\b{start', /special word boundary assertion is unclosed/);
  });

  it('rejects Unicode classes without Unicode mode, and unknown properties', () => {
    rejects('\\p{Greek}', /need Unicode mode/);
    rejects('\\pL', /need Unicode mode/);
    rejects('[\\p{Greek}]', /need Unicode mode/);
    rejects('(?u)\\p{Klingon}', /Unicode property not found/);
    rejects('(?u)\\p{sc=Klingon}', /Unicode property value not found/);
    rejects('(?u)\\p{Age=3.0}', /not supported/);
    rejects('(?u)\\p\\d', /invalid Unicode character class/);
  });

  it('rejects bad group names and flags', () => {
    rejects('(?P<n>a)(?P<n>b)', /duplicate capture group name/);
    rejects('(?P<>a)', /empty capture group name/);
    rejects('(?P<1a>a)', /invalid capture group character/);
    rejects('(?P<a', /unexpected end of pattern in a capture group name/);
    rejects('(?z)', /unrecognized flag/);
    rejects('(?ii)', /duplicate flag/);
    rejects('(?i-i)', /duplicate flag/);
    rejects('(?-i-m)', /flag negation operator repeated/);
    rejects('(?i-)', /flag negation operator with no flags after it/);
  });

  it('rejects empty, unclosed and malformed classes', () => {
    rejects('[]', /unclosed character class/);
    rejects('[^]', /unclosed character class/);
    rejects('[a', /unclosed character class/);
    rejects('[a[b]', /unclosed character class/);
    rejects('[z-a]', /start must be <= the end/);
    rejects('[a-\\d]', /invalid range boundary/);
    rejects('[\\b]', /invalid escape sequence found in character class/);
    rejects('[é]', /need Unicode mode/);
    rejects('[\\x{e9}]', /need Unicode mode/);
  });

  it('rejects patterns nested deeper than the limit', () => {
    rejects(`${'('.repeat(300)}a${')'.repeat(300)}`, /nesting limit/);
    assert.doesNotThrow(() => compileRegex(`${'(?:'.repeat(100)}a${')'.repeat(100)}`));
  });

  it('rejects patterns whose compiled form exceeds the size budget, without building them', () => {
    rejects('a{1000}{1000}', /exceeds the size limit of 10485760 bytes/);
    rejects('(?:a{1000}){1000}{1000}', /size limit/);
    // Rust's own example: over a 1 MiB budget.
    assert.throws(() => compileRegex('.{4079,65535}', { sizeLimit: 1024 * 1024 }), RegexSyntaxError);
    assert.doesNotThrow(() => compileRegex('.{1000}'));
    assert.throws(() => compileRegex('.{1000}', { sizeLimit: 1000 }), /size limit of 1000 bytes/);
  });

  it('says where the error is', () => {
    try {
      compileRegex('ab(?=c)');
      assert.fail('compiled');
    } catch (error) {
      assert.ok(error instanceof RegexSyntaxError);
      assert.equal(error.start, 2);
      assert.equal(error.end, 5);
      assert.match(error.message, /characters 2\.\.5 of the pattern: "ab>>>\(\?=<<<c\)"/);
    }
  });
});

describe('bytes mode', () => {
  it('matches . against one byte other than \\n', () => {
    assert.equal(matches('^.$', utf8('é')), false);
    assert.equal(matches('^..$', utf8('é')), true);
    assert.equal(matches('^a.b$', 'a\nb'), false);
    assert.equal(matches('(?s)^a.b$', 'a\nb'), true);
    assert.equal(matches('^.$', '\xff'), true);
    assert.equal(matches('(?R)^a.b$', 'a\rb'), false);
  });

  it('matches . against one character in Unicode mode', () => {
    assert.equal(matches('(?u)^.$', utf8('é')), true);
    assert.equal(matches('(?u)^.$', utf8('😀')), true);
    assert.equal(matches('(?u)^...$', utf8('日本語')), true);
    // Invalid UTF-8 is not a character.
    assert.equal(matches('(?u)^.$', '\xff'), false);
    assert.equal(matches('(?u:.)(?-u:.)', '\xc3\xa9\xff'), true);
  });

  it('matches \\xHH as a raw byte, other escapes and literal characters as UTF-8', () => {
    assert.equal(matches('\\xff', 'A\xffB'), true);
    assert.equal(matches('\\xff', utf8('ÿ')), false);
    assert.equal(matches('\\x{ff}', utf8('ÿ')), true);
    assert.equal(matches('\\x{ff}', '\xff'), false);
    assert.equal(matches('(?u)\\xff', utf8('ÿ')), true);
    assert.equal(matches('(?u)\\xff', '\xff'), false);
    assert.equal(matches('é', utf8('café')), true);
    assert.equal(matches('^[\\x80-\\xff]+$', utf8('日本')), true);
    assert.deepEqual(captures('\\u{1F600}', utf8('a😀')), [1, 5]);
  });

  it('makes \\d, \\w, \\s and POSIX classes ASCII-only, and their negations byte classes', () => {
    assert.equal(matches('^\\d+$', utf8('٣')), false);
    assert.equal(matches('(?u)^\\d+$', utf8('٣')), true);
    assert.deepEqual(captures('\\w+', utf8('héllo')), [0, 1]);
    assert.deepEqual(captures('(?u)\\w+', utf8('héllo')), [0, 6]);
    assert.equal(matches('^\\W$', '\xff'), true);
    assert.equal(matches('(?u)^\\W$', '\xff'), false);
    assert.equal(matches('^\\s$', utf8('\u00a0')), false);
    assert.equal(matches('(?u)^\\s$', utf8('\u00a0')), true);
    assert.equal(matches('^[[:alpha:]]+$', 'abcXYZ'), true);
    assert.equal(matches('^[[:alpha:]]+$', utf8('é')), false);
    assert.equal(matches('^[[:^alpha:]]+$', '1\xff'), true);
  });

  it('escapes', () => {
    assert.equal(matches('^\\a\\f\\t\\n\\r\\v$', '\x07\x0c\t\n\r\x0b'), true);
    assert.equal(matches('^\\x7F\\u007F\\u{7F}\\U0000007F\\U{7F}$', '\x7f'.repeat(5)), true);
    assert.equal(matches('^\\.\\*\\ \\#$', '.* #'), true);
  });
});

describe('case-insensitivity', () => {
  it('folds ASCII only without Unicode mode', () => {
    assert.equal(matches('(?i)EXAMPLE', 'example.org'), true);
    assert.equal(matches('EXAMPLE', 'example.org'), false);
    assert.equal(matches('(?i)é', utf8('É')), false);
    assert.equal(matches('(?i)k', utf8('\u212a')), false); // KELVIN SIGN
    assert.equal(matches('(?i)[a-c]', 'B'), true);
    assert.equal(matches('(?i)[^a]', 'A'), false);
  });

  it('uses simple case folding in Unicode mode', () => {
    assert.equal(matches('(?iu)é', utf8('É')), true);
    assert.equal(matches('(?iu)k', utf8('\u212a')), true);
    assert.equal(matches('(?iu)^σ+$', utf8('ΣσςΣ')), true);
    assert.equal(matches('(?iu)ß', utf8('ẞ')), true);
    // Dotless ı has no simple case folding (only a Turkic one).
    assert.equal(matches('(?iu)i', utf8('ı')), false);
    assert.equal(matches('(?iu)[\\p{Lu}&&\\p{Greek}]', utf8('α')), true);
  });

  it('scopes flags to the rest of their group', () => {
    assert.equal(matches('^(?i:a)b$', 'Ab'), true);
    assert.equal(matches('^(?i:a)b$', 'AB'), false);
    assert.equal(matches('^(?i)a(?-i)b$', 'AB'), false);
    assert.equal(matches('^(?:(?i)a)b$', 'AB'), false);
    assert.equal(matches('^a(?i)b|c$', 'C'), true); // the flag carries into the next alternative
  });

  it('finds case-insensitive literals whatever the case', () => {
    const googlebot = compileRegex('(?i)googlebot/\\d+\\.\\d+');
    assert.equal(googlebot.test('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'), true);
    assert.equal(googlebot.test('Mozilla/5.0 (X11; Linux x86_64) Chrome/51.0.2704.103 Safari/537.36'), false);
    assert.deepEqual(googlebot.captures('x GOOGLEBOT/1.23'), [2, 16]);
    assert.equal(matches('(?i)abc', 'xAbC'), true);
    // Lower-casing the haystack for the search must not confuse bytes that change case in Latin-1.
    assert.equal(matches('(?i)ab\\xc3', 'AB\xe3'), false);
    assert.equal(matches('(?i)ab\\xc3', 'AB\xc3'), true);
    assert.equal(matches('(?i)a(?-i)b', 'AB'), false);
  });
});

describe('anchors and lines', () => {
  it('matches anywhere unless anchored', () => {
    assert.equal(matches('org', 'example.org'), true);
    assert.equal(matches('^org', 'example.org'), false);
    assert.equal(matches('\\Aexample', 'example.org'), true);
    assert.equal(matches('org\\z', 'example.org'), true);
    assert.equal(matches('org$', 'example.org\n'), false); // $ is the end of the text, as \z
    assert.equal(matches('^$', ''), true);
    assert.equal(matches('', 'abc'), true);
  });

  it('matches ^ and $ at line boundaries in multi-line mode', () => {
    assert.equal(matches('^b$', 'a\nb\nc'), false);
    assert.equal(matches('(?m)^b$', 'a\nb\nc'), true);
    assert.deepEqual(captures('(?m)^\\w+$', 'one two\nthree\n'), [8, 13]);
    assert.equal(matches('(?m)^b$', 'a\r\nb\r\n'), false);
    assert.equal(matches('(?mR)^b$', 'a\r\nb\r\n'), true);
    assert.deepEqual(captures('(?mR)$', 'a\r\n'), [1, 1]);
  });

  it('answers anchored searches without reading the whole haystack', () => {
    const long = `x${'/'.repeat(1_000_000)}`;
    assert.equal(matches('^/wp-(admin|login)', long), false);
    assert.equal(matches('\\.php$', long), false);
    assert.equal(matches('\\.php$', `${long}.php`), true);
  });
});

describe('word boundaries', () => {
  it('ASCII \\b and \\B', () => {
    assert.equal(matches('\\bfoo\\b', 'a foo b'), true);
    assert.equal(matches('\\bfoo\\b', 'afoo b'), false);
    assert.equal(matches('\\bfoo\\b', 'foo'), true);
    assert.equal(matches('\\Boo\\B', 'fool'), true);
    assert.equal(matches('\\Boo\\B', 'foo'), false);
    // é is two non-word bytes without Unicode mode.
    assert.equal(matches('\\bcaf\\b', utf8('café')), true);
    assert.deepEqual(captures('\\b\\w+\\b', '\xffabc\xff'), [1, 4]);
  });

  it('Unicode \\b with (?u)', () => {
    assert.equal(matches('(?u)\\bcaf\\b', utf8('café')), false);
    assert.equal(matches('(?u)\\bcafé\\b', utf8('un café noir')), true);
    assert.deepEqual(captures('(?u)\\b\\w+\\b', utf8('¿qué?')), [2, 6]);
    // \B does not hold next to a non-word character that a literal search skipped over.
    assert.equal(matches('(?u)\\B\\n', utf8('é\n')), false);
    assert.equal(matches('(?u)\\B\\n', utf8(' \n')), true);
  });

  it('start and end of words', () => {
    assert.deepEqual(captures('\\<\\w+', '  abc'), [2, 5]);
    assert.deepEqual(captures('\\w+\\>', 'abc  '), [0, 3]);
    assert.equal(matches('\\b{start}bc', 'abc'), false);
    assert.equal(matches('a\\b{end}', 'ab'), false);
    assert.deepEqual(captures('\\b{start-half}x', 'ax -x'), [4, 5]);
    assert.deepEqual(captures('x\\b{end-half}', 'xa x-'), [3, 4]);
  });
});

describe('leftmost-first captures', () => {
  it('prefers earlier alternatives, as Perl and Rust do', () => {
    assert.deepEqual(captures('a|ab', 'ab'), [0, 1]);
    assert.deepEqual(captures('ab|a', 'ab'), [0, 2]);
    assert.deepEqual(captures('(a|ab)(c|bcd)(d*)', 'abcd'), [0, 4, 0, 1, 1, 4, 4, 4]);
    assert.deepEqual(captures('x*', 'abc'), [0, 0]);
  });

  it('gives greedy and lazy repetitions their usual sizes', () => {
    assert.deepEqual(captures('(a*)(a*)', 'aaa'), [0, 3, 0, 3, 3, 3]);
    assert.deepEqual(captures('(a*?)(a*)', 'aaa'), [0, 3, 0, 0, 0, 3]);
    assert.deepEqual(captures('a+?', 'aaa'), [0, 1]);
    assert.deepEqual(captures('a{2,4}?', 'aaaaa'), [0, 2]);
    assert.deepEqual(captures('a{2,4}', 'aaaaa'), [0, 4]);
    assert.deepEqual(captures('(?U)a+', 'aaa'), [0, 1]);
    assert.deepEqual(captures('(?U)a+?', 'aaa'), [0, 3]);
    assert.deepEqual(captures('<.+>', '<a><b>'), [0, 6]);
    assert.deepEqual(captures('<.+?>', '<a><b>'), [0, 3]);
    // Anchored single repeats run on V8's RegExp: laziness must survive the translation.
    assert.deepEqual(captures('^a+?', 'aaa'), [0, 1]);
    assert.deepEqual(captures('^(?:[^x])*?', 'aaa'), [0, 0]);
    assert.deepEqual(captures('^a{2,4}?', 'aaaaa'), [0, 2]);
    assert.deepEqual(captures('(?U)^a+', 'aaa'), [0, 1]);
  });

  it('reports groups that did not participate as -1 and the last iteration of repeated groups', () => {
    assert.deepEqual(captures('(a)|(b)', 'b'), [0, 1, -1, -1, 0, 1]);
    assert.deepEqual(captures('(foo)?bar', 'bar'), [0, 3, -1, -1]);
    assert.deepEqual(captures('(?:(a)|b)*', 'ab'), [0, 2, 0, 1]);
    assert.deepEqual(captures('(a){0}(b)', 'ab'), [1, 2, -1, -1, 1, 2]);
    assert.deepEqual(captures('(?:a??|a)*', 'a'), [0, 0]);
    assert.equal(captures('a(b)', 'ac'), null);
  });

  it('matches the regex_replace examples', () => {
    assert.deepEqual(captures('^/foo/([^/]*)/(.*)$', '/foo/a/path'), [0, 11, 5, 6, 7, 11]);
    assert.deepEqual(captures('/bar$', '/foo/bar'), [4, 8]);
    assert.deepEqual(captures('/a', '/a/a'), [0, 2]);
    assert.deepEqual(captures('^/b$', '/b'), [0, 2]);
    assert.equal(captures('^/y$', '/x'), null);
    assert.equal(captures('^/FOO$', '/foo'), null);
    assert.deepEqual(captures('\\\\', 'x\\y'), [1, 2]);
  });

  it('finds the same match however the search is prefiltered', () => {
    assert.deepEqual(captures('wp-(admin|login)', '/x/wp-logi/wp-login.php'), [11, 19, 14, 19]);
    assert.deepEqual(captures('\\d+\\.php', 'a1.ph 22.php'), [6, 12]);
    assert.deepEqual(captures('(?i)(?P<bot>bot)\\b', 'robots Bot!'), [7, 10, 7, 10]);
  });
});

describe('classes', () => {
  it('set operations and nesting', () => {
    const only = (pattern: string, alphabet: string) => [...alphabet].filter((c) => matches(`^${pattern}$`, c)).join('');
    assert.equal(only('[a-z&&[^aeiou]]', 'abcdefghi'), 'bcdfgh');
    assert.equal(only('[a-e--b-c]', 'abcdef'), 'ade');
    assert.equal(only('[a-c~~b-d]', 'abcde'), 'ad');
    assert.equal(only('[a[bc]]', 'abcd'), 'abc');
    assert.equal(only('[^a[bc]]', 'abcd'), 'd');
    assert.equal(only('[]a]', ']ab'), ']a');
    assert.equal(only('[-a]', '-ab'), '-a');
    assert.equal(only('[\\d\\s]', '1 a'), '1 ');
    assert.equal(only('[x[:digit:]]', 'x1y'), 'x1');
    assert.equal(only('[&&a]', 'a&'), '');
  });

  it('Unicode properties in Unicode mode', () => {
    assert.equal(matches('(?u)^\\p{Greek}+$', utf8('αβγ')), true);
    assert.equal(matches('(?u)^\\p{Greek}+$', utf8('abc')), false);
    for (const [property, yes, no] of [
      ['L', 'ж', '1'],
      ['Lu', 'Ж', 'ж'],
      ['Ll', 'ж', 'Ж'],
      ['N', '٣', 'a'],
      ['Nd', '٣', 'Ⅻ'],
      ['P', '¿', 'a'],
      ['S', '€', 'a'],
      ['Z', '\u3000', 'a'],
      ['Latin', 'é', 'ж'],
      ['Cyrillic', 'ж', 'é'],
      ['Han', '漢', 'ア'],
      ['Arabic', 'ع', 'א'],
      ['Hebrew', 'א', 'ع'],
      ['sc=Grek', 'λ', 'l'],
      ['greek', 'λ', 'l'],
      ['Letter', 'λ', '1'],
      ['White_Space', '\u2003', 'a'],
    ]) {
      assert.equal(matches(`(?u)^\\p{${property}}$`, utf8(yes)), true, `${property} ${yes}`);
      assert.equal(matches(`(?u)^\\p{${property}}$`, utf8(no)), false, `${property} ${no}`);
      assert.equal(matches(`(?u)^\\P{${property}}$`, utf8(no)), true, `not ${property} ${no}`);
    }
    assert.equal(matches('(?u)^\\pN$', utf8('٣')), true);
    assert.equal(matches('(?u)^\\p{gc!=L}$', utf8('λ')), false);
  });
});

describe('flags', () => {
  it('x ignores whitespace and comments', () => {
    assert.equal(matches('(?x)^ a b # comment\n c $', 'abc'), true);
    assert.equal(matches('(?x)^a\\ b$', 'a b'), true);
    assert.equal(matches('(?x)^[ a]$', ' '), false);
  });
});

describe('linear time', () => {
  // A backtracking engine would not finish these; they are only run, not timed.
  it('^(/+)+x$ against 10,000 slashes', () => {
    const re = compileRegex('^(/+)+x$');
    assert.equal(re.test('/'.repeat(10_000)), false);
    assert.equal(re.captures('/'.repeat(10_000)), null);
    assert.deepEqual(re.captures(`${'/'.repeat(10_000)}x`), [0, 10_001, 0, 10_000]);
  });

  it('(a|a)*b against 30,000 a', () => {
    assert.equal(matches('(a|a)*b', 'a'.repeat(30_000)), false);
    assert.equal(matches('(a|a)*[bc]', 'a'.repeat(30_000)), false);
    assert.deepEqual(captures('(a|a)*b', `${'a'.repeat(30_000)}b`), [0, 30_001, 29_999, 30_000]);
  });

  it('(x+x+)+y', () => {
    assert.equal(matches('(x+x+)+y', 'x'.repeat(20_000)), false);
    assert.equal(matches('(x+x+)+[yz]', 'x'.repeat(20_000)), false);
    assert.deepEqual(captures('(x+x+)+y', `${'x'.repeat(5_000)}y`)?.slice(0, 2), [0, 5_001]);
  });

  it('.*.*.*=.* on long input', () => {
    const long = 'k'.repeat(50_000);
    assert.equal(matches('.*.*.*=.*', long), false);
    assert.equal(matches('.*.*.*[=:].*', long), false);
    assert.deepEqual(captures('.*.*.*=.*', `${long}=v`), [0, 50_002]);
  });

  it('when the lazy DFA would need too many states', () => {
    // [ab]*a[ab]{20}: a DFA needs 2^21 states, random text visits a new one at almost every byte;
    // the cache thrashes and the search falls back to the Pike VM.
    let seed = 7;
    const random = Array.from({ length: 50_000 }, () => (((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16) & 1 ? 'a' : 'b')).join('');
    assert.equal(matches('[ab]*a[ab]{20}[cd]', random), false);
    assert.equal(matches('[ab]*a[ab]{20}[cd]', `${random}a${'b'.repeat(20)}c`), true);
  });

  it('Unicode word boundaries on non-ASCII text', () => {
    const text = utf8('mot '.repeat(5_000) + 'ça');
    assert.equal(matches('(?u)\\bça\\b', text), true);
    assert.equal(matches('(?u)\\b\\w+ça\\b', text), false);
  });
});

describe('agrees with JavaScript RegExp on a common subset', () => {
  // Patterns from a small grammar where both dialects mean the same: ASCII literals and classes,
  // ., |, groups, repetitions of sub-patterns that cannot match the empty string (the two
  // disagree on empty iterations), ^, $ and \b. The haystacks are ASCII with newlines, where
  // Rust's . ([^\n]) is JavaScript's [^\n].
  interface Gen {
    readonly source: string;
    readonly nullable: boolean;
  }
  const atom: fc.Arbitrary<Gen> = fc.oneof(
    fc.constantFrom('a', 'b', 'c', '-', '.', '[ab]', '[^a]', '[a-c]', '\\d', '\\w', '\\s').map((source) => ({ source, nullable: false })),
    fc.constantFrom('^', '$', '\\b', '\\B').map((source) => ({ source, nullable: true })),
  );
  const pattern: fc.Arbitrary<Gen> = fc.letrec<{ node: Gen }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => ({ source: x.source + y.source, nullable: x.nullable && y.nullable })),
      fc.tuple(tie('node'), tie('node'), fc.boolean()).map(([x, y, capture]) => ({
        source: `(${capture ? '' : '?:'}${x.source}|${y.source})`,
        nullable: x.nullable || y.nullable,
      })),
      fc.tuple(tie('node'), fc.constantFrom('*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,2}?', '{2,}')).map(([x, op]) => ({
        source: x.nullable ? x.source : `(?:${x.source})${op}`,
        nullable: x.nullable || op.startsWith('*') || op.startsWith('?') || op.startsWith('{0'),
      })),
    ),
  })).node;
  const haystack = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'x', 'A', '1', ' ', '\n', '-'), maxLength: 24 });
  const toJs = (source: string) => source.replace(/\.(?![^[]*\])/g, '[^\\n]');

  it('test() is RegExp.test, captures() group 0 is RegExp.exec', () => {
    fc.assert(
      fc.property(pattern, haystack, fc.boolean(), ({ source }, input, caseInsensitive) => {
        const re = compileRegex(caseInsensitive ? `(?i)${source}` : source);
        const expected = new RegExp(toJs(source), caseInsensitive ? 'i' : '').exec(input);
        assert.equal(re.test(input), expected !== null);
        const ours = re.captures(input);
        assert.deepEqual(ours && ours.slice(0, 2), expected && [expected.index, expected.index + expected[0].length]);
      }),
      { numRuns: 600 },
    );
  });
});

it('V8 runs test() and captures() for its linear-time subset with the same answers as the automata', () => {
  // Patterns from the subset (literals, classes, alternations, anchors, word boundaries, counted
  // repetitions, one variable repetition when anchored) and outside it; haystacks over the bytes they use.
  const atom = fc.constantFrom('a', 'b', 'ab', '.', '[a-c]', '[^b]', '\\d', '\\x00', '\\xff', '(?i:k)', '(?i)B', '-', '\\.');
  const part = fc.oneof(
    atom,
    fc.tuple(atom, atom).map(([x, y]) => `(${x}|${y})`),
    fc.tuple(atom, fc.constantFrom('{2}', '{1,3}', '+', '*', '?')).map(([x, q]) => `(?:${x})${q}`),
    fc.constantFrom('\\b', '\\B', '$'),
  );
  // (?m): V8 runs the pattern with ^ and $ as the text's edges, on haystacks without a line feed.
  const pattern = fc
    .tuple(fc.boolean(), fc.boolean(), fc.array(part, { minLength: 1, maxLength: 5 }))
    .map(([multiLine, anchored, parts]) => `${multiLine ? '(?m)' : ''}${anchored ? '^' : ''}${parts.join('')}`);
  const haystack = fc.array(fc.constantFrom('a', 'b', 'c', 'k', 'K', 'B', '1', '.', '-', ' ', '\n', '\x00', '\xff', 'é'), { maxLength: 12 }).map((chars) => chars.join(''));
  fc.assert(
    fc.property(pattern, fc.array(haystack, { minLength: 1, maxLength: 8 }), (source, haystacks) => {
      const fast = compileRegex(source);
      const automata = compileRegex(source, { useV8: false });
      for (const h of haystacks) {
        assert.equal(fast.test(h), automata.test(h), `${JSON.stringify(source)} on ${JSON.stringify(h)}`);
        assert.deepEqual(fast.captures(h), automata.captures(h), `captures of ${JSON.stringify(source)} on ${JSON.stringify(h)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

describe('required literal sets', () => {
  const literalsOf = (pattern: string) => compileRegex(pattern).requiredLiterals;
  /** Whether `haystack` holds one of the literals, ASCII case ignored. */
  const holdsOne = (literals: readonly string[], haystack: string) => {
    const lowered = haystack.replace(/[A-Z]/g, (c) => c.toLowerCase());
    return literals.some((literal) => lowered.includes(literal));
  };

  it('sees through alternations and case-insensitivity, and gives none where a letter or digit would be all', () => {
    assert.deepEqual(literalsOf('(?i)(?:union|select)\\s+from'), ['union', 'select']);
    assert.deepEqual(literalsOf('(?:union|sel(?:ect|f))\\b'), ['union', 'select', 'self']);
    assert.deepEqual(literalsOf('[\'"]'), ['"', "'"]);
    assert.deepEqual(literalsOf('(?i)<script'), ['<script']);
    assert.deepEqual(literalsOf('(?:load_file|\\sload_file)'), ['load_file']);
    assert.equal(literalsOf('^.*$'), undefined);
    assert.equal(literalsOf('a|b'), undefined);
    assert.equal(literalsOf('(?:x\\d)?y+'), undefined);
  });

  it('every match holds one of them', () => {
    const atom = fc.constantFrom('a', 'b', 'ab', 'cd', '.', '[a-c]', '[^b]', '\\d', '\\s', '\\x00', '\\xff', '(?i:k)', '(?i)Bz', '-', '\\.', "'", '\\b', '^', '$');
    const part = fc.oneof(
      atom,
      fc.tuple(atom, atom, atom).map(([x, y, z]) => `(${x}|${y}${z})`),
      fc.tuple(atom, fc.constantFrom('{2}', '{1,3}', '+', '*', '?', '{0,2}')).map(([x, q]) => `(?:${x})${q}`),
    );
    const pattern = fc.array(part, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));
    const haystack = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'k', 'K', 'B', 'Z', 'z', '1', '.', '-', "'", ' ', '\n', '\x00', '\xff'), { maxLength: 16 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(pattern, fc.array(haystack, { minLength: 1, maxLength: 8 }), (source, haystacks) => {
        const re = compileRegex(source);
        const literals = re.requiredLiterals;
        if (literals === undefined) return;
        for (const h of haystacks) if (re.test(h)) assert.ok(holdsOne(literals, h), `${JSON.stringify(source)} matches ${JSON.stringify(h)} without any of ${JSON.stringify(literals)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('MultiSearch.markBytes marks the bits of the literals present, and gives up on a code unit above 0xFF', () => {
    const search = new MultiSearch(['union', "'", 'from'], { foldAscii: true });
    const bits = [Int32Array.of(0, 33), Int32Array.of(1), Int32Array.of(2)];
    const hits = new Int32Array(4);
    assert.equal(search.markBytes("x' UNION y", bits, hits, 1), true);
    assert.deepEqual([...hits], [0, 0b11, 0b10, 0]);
    assert.equal(search.markBytes('union\u0100', bits, new Int32Array(2), 0), false);
  });
});
