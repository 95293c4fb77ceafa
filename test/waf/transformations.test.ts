// The SecLang transformations: the cases of ModSecurity v2's own tables (tests/tfn/*.t) and
// Coraza's (the secrules-language-tests data), the edge cases where the engines part ways, and
// properties over arbitrary bytes.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TRANSFORMATIONS, transformation, type Transformation } from '../../src/waf/transformations/index.ts';

type Case = readonly [input: string, output: string];

/** Binary string of the given bytes. */
const bytes = (...values: number[]) => String.fromCharCode(...values);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const hex2 = (byte: number) => byte.toString(16).padStart(2, '0');

const ALL_BYTES = bytes(...range(0, 255));

/** Every byte percent-encoded, after a `+`, and what urlDecode makes of it. */
const ALL_PERCENT: Case = ['+' + range(0, 255).map((b) => '%' + hex2(b)).join(''), ' ' + ALL_BYTES];

/**
 * %u0000–%u00FF decoded through the best-fit map of codepage 20127 (SecUnicodeMapFile, which CRS's
 * reference set-up loads): Latin-1 letters fold to ASCII, symbols without a fit keep their byte.
 */
const BEST_FIT_LATIN1 =
  bytes(...range(0, 0x9f)) +
  ' !c\xa3$Y|\xa7\xa8Ca<\xac-R\xaf\xb0\xb123\xb4\xb5\xb6.,1o>\xbc\xbd\xbe\xbf' +
  'AAAAAAACEEEEIIIIDNOOOOO\xd7OUUUUY\xde\xdfaaaaaaaceeeeiiii\xf0nooooo\xf7ouuuuy\xfey';

const CASES: Record<string, readonly Case[]> = {
  base64Decode: [
    ['', ''],
    ['VGVzdENhc2U=', 'TestCase'],
    ['VGVzdENhc2Ux', 'TestCase1'],
    ['VGVzdENhc2UxMg==', 'TestCase12'],
    ['VGVzdABDYXNl', 'Test\x00Case'],
    ['VGVzdENhc2U=\x00VGVzdENhc2U=', 'TestCase'],
    ['VGVzdA', 'Test'],
    // decoding stops at the first byte outside the alphabet, whitespace and padding included
    ['VGV zdA', 'Te'],
    ['VGVz\ndA==', 'Tes'],
    ['VGVzdA=x', 'Test'],
    ['Q', ''],
    ['QQ', 'A'],
    ['QUI', 'AB'],
    ['!!!', ''],
  ],
  base64DecodeExt: [
    ['', ''],
    ['VGVzdENhc2U=', 'TestCase'],
    ['VGVzdENhc2Ux', 'TestCase1'],
    ['VGVzdENhc2UxMg==', 'TestCase12'],
    ['VGVzdABDYXNl', 'Test\x00Case'],
    ['P.HNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', '<script>alert(1)</script>'],
    ['VGVz dA==', 'Test'],
    ['VG=VzdA', 'Test'],
    ['=VGVzdA', 'Test'],
    ['VGVzdA-_', 'Test'],
    ['QQ=', 'A'],
    // a `=` after the lone digit of a group, not followed by another `=`, empties the result
    ['VGVzd=A', ''],
    ['Q=', ''],
    ['Q==', ''],
    // a NUL byte is skipped like any other byte outside the alphabet
    ['VGVz\x00dA==', 'Test'],
  ],
  base64Encode: [
    ['', ''],
    ['TestCase', 'VGVzdENhc2U='],
    ['TestCase1', 'VGVzdENhc2Ux'],
    ['TestCase12', 'VGVzdENhc2UxMg=='],
    ['Test\x00Case', 'VGVzdABDYXNl'],
    ['\xff\xfe', '//4='],
  ],
  cmdLine: [
    ['', ''],
    ['test', 'test'],
    ['C^OMMAND /C DIR', 'command/c dir'],
    ['C^oMMaNd /C DiR', 'command/c dir'],
    ['cmd,/c DiR', 'cmd/c dir'],
    ['"command" /c DiR', 'command/c dir'],
    ['cat  "/etc/passwd"', 'cat/etc/passwd'],
    ['a ,; b', 'a b'],
    ['a\t(b', 'a(b'],
    ['echo;id', 'echo id'],
    [" ' /", '/'],
    ['a  ^ (', 'a('],
    ['AbC\xc0', 'abc\xc0'],
    // NUL is an ordinary byte (ModSecurity v2 stops at it)
    ['\x00;CAT /etc/passwd', '\x00 cat/etc/passwd'],
  ],
  compressWhitespace: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['Test Case', 'Test Case'],
    ['  Test  \t   Case  ', ' Test Case '],
    [
      'This is a   test case with a tab \t, vtab \x0b, newline \n, return \r, formfeed \x0c, and a NUL\x00 in it with a CRLF at the end.\r\n',
      'This is a test case with a tab , vtab , newline , return , formfeed , and a NUL\x00 in it with a CRLF at the end. ',
    ],
    ['\xa0\xa0a', ' a'],
    ['a \xa0b', 'a b'],
    ['a\x85b', 'a\x85b'],
    ['a\x0bb\x0cc', 'a b c'],
  ],
  cssDecode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    [
      'test\\a\\b\\f\\n\\r\\t\\v\\?\\\'\\"\\0\\12\\123\\1234\\12345\\123456\\ff01\\ff5e\\\n\\0  string',
      'test\n\x0b\x0fnrtv?\'"\x00\x12#4EV!~\x00 string',
    ],
    ['test\\', 'test'],
    ['\\1A\\1 A\\1234567\\123456 7\\1x\\1 x', '\x1a\x01AV7V7\x01x\x01x'],
    // full-width ASCII from 4 digits, or 5–6 with leading zeros; otherwise the low byte only
    ['\\0ff01\\00ff01\\1ff01\\000ff01', '!!\x01\xf01'],
    ['\\fF5e\\Ff5f', '~_'],
    ['\\FFFFFF', '\xff'],
    // one whitespace byte after the digits is part of the escape
    ['\\41 b\\41\tb\\41  b\\41\x0bb', 'AbAbA bAb'],
    ['a\\\nb\\g\\\\', 'abg\\'],
  ],
  escapeSeqDecode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['\\a\\b\\f\\n\\r\\t\\v\\?\\\'\\"\\0\\12\\123\\x00\\xff', '\x07\x08\x0c\n\r\t\x0b?\'"\x00\nS\x00\xff'],
    ['\\a\\b\\f\\n\\r\\t\\v\x00\\?\\\'\\"\\0\\12\\123\\x00\\xff', '\x07\x08\x0c\n\r\t\x0b\x00?\'"\x00\nS\x00\xff'],
    ['\\8\\9\\666\\xag\\xga\\0123', '89\xb6xagxga\n3'],
    ['\\x', 'x'],
    ['\\x\\x0', 'xx0'],
    ['\\x\\x0\x00', 'xx0\x00'],
    ['\\0', '\x00'],
    ['\\01', '\x01'],
    ['\\012', '\n'],
    ['\\', '\\'],
    ['\\\x00', '\x00'],
    ['\\\\u0000', '\\u0000'],
    ['\\X41\\x4G', 'Ax4G'],
    ['\\777\\400\\0400', '\xff\x00 0'],
    ['\\q\\"\\?', 'q"?'],
    ['a\\', 'a\\'],
  ],
  hexDecode: [
    ['', ''],
    ['5465737443617365', 'TestCase'],
    ['546573740043617365', 'Test\x00Case'],
    // digits are not checked: other bytes go through the hex letters' arithmetic
    ['01234567890a0z01234567890a', '\x01#Eg\x89\n#\x01#Eg\x89\n'],
    ['01234567890az', '\x01#Eg\x89\n'],
    ['01234567890a0', '\x01#Eg\x89\n'],
    ['zz', 'S'],
    ['GG', '\x10'],
    ['4', ''],
    ['414', 'A'],
  ],
  hexEncode: [
    ['', ''],
    ['TestCase', '5465737443617365'],
    ['Test\x00Case', '546573740043617365'],
    [ALL_BYTES, range(0, 255).map(hex2).join('')],
  ],
  htmlEntityDecode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['&#x0;&#X0;&#x20;&#X20;&#0;&#32;\x00&#100;&quot;&amp;&lt;&gt;&nbsp;', '\x00\x00  \x00 \x00d"&<>\xa0'],
    ['&#x0&#X0&#x20&#X20&#0&#32\x00&#100&quot&amp&lt&gt&nbsp', '\x00\x00  \x00 \x00d"&<>\xa0'],
    ['&#xg;&#Xg;&#xg0;&#X2g;&#a;\x00&#a2;&#3a&#a00;&#1a0;&#10a;&foo;', '&#xg;&#Xg;&#xg0;\x02g;&#a;\x00&#a2;\x03a&#a00;\x01a0;\na;&foo;'],
    ['&#xg&#Xg&#xg0&#X2g&#a\x00&#a2&#3a&#a00&#1a0&#10a&foo', '&#xg&#Xg&#xg0\x02g&#a\x00&#a2\x03a&#a00\x01a0\na&foo'],
    // CRS 944152: all the digits are read
    ['&#00000000000000000000000000000000000000000000000123;jndi', '{jndi'],
    ['&#x0000000000000000000041;', 'A'],
    ['&#x24;{', '${'],
    ['&#65&#66;&#x43;D', 'ABCD'],
    // the low byte of the value; beyond a 64-bit long, strtol() saturates to LONG_MAX (low byte 0xff)
    ['&#1234;', '\xd2'],
    ['&#x141', 'A'],
    ['&#9223372036854775806;', '\xfe'],
    ['&#9223372036854775807;', '\xff'],
    ['&#9223372036854775808;', '\xff'],
    ['&#99999999999999999999;', '\xff'],
    ['&#x7fffffffffffffff;', '\xff'],
    ['&#x8000000000000000;', '\xff'],
    // only five names, whole and in any case; the rest stay for CRS's rules to match literally
    ['&QUOT;&Amp;&LT;&gT;&NBSP;', '"&<>\xa0'],
    ['&lbrace;&colon;&Tab;', '&lbrace;&colon;&Tab;'],
    ['&ltx;&lt1;&quotation;', '&ltx;&lt1;&quotation;'],
    ['&amp;lt;', '&lt;'],
    ['&#x;&#;&#X', '&#x;&#;&#X'],
    ['&', '&'],
    ['&#', '&#'],
    ['a&b&&c;', 'a&b&&c;'],
  ],
  jsDecode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['\\a\\b\\f\\n\\r\\t\\v\\?\\\'\\"\\0\\12\\123\\x00\\xff\\u0021\\uff01', '\x07\x08\x0c\n\r\t\x0b?\'"\x00\nS\x00\xff!!'],
    ['\\a\\b\\f\\n\\r\\t\\v\x00\\?\\\'\\"\\0\\12\\123\\x00\\xff\\u0021\\uff01', '\x07\x08\x0c\n\r\t\x0b\x00?\'"\x00\nS\x00\xff!!'],
    ['\\8\\9\\666\\u00ag\\u00ga\\u0zaa\\uz0aa\\xag\\xga\\0123\\u00a', '8966u00agu00gau0zaauz0aaxagxga\n3u00a'],
    ['\\x', 'x'],
    ['\\x\\x0', 'xx0'],
    ['\\x\\x0\x00', 'xx0\x00'],
    ['\\u', 'u'],
    ['\\u\\u0', 'uu0'],
    ['\\u\\u0\\u01', 'uu0u01'],
    ['\\u\\u0\\u01\\u012', 'uu0u01u012'],
    ['\\u\\u0\\u01\\u012\x00', 'uu0u01u012\x00'],
    ['\\', '\\'],
    ['\\\x00', '\x00'],
    ['\\\\0', '\\0'],
    ['8966\\x0a\\x00', '8966\n\x00'],
    ['\\u00FF\\uff01\\uFF5E\\uff5f\\uff00', '\xff!~_\x00'],
    // \u and \x in lower case only; octal only while the value fits a byte
    ['\\U0041\\X41', 'U0041X41'],
    ['\\477\\377\\400\\0777', "'7\xff 0?7"],
    ['\\x4g\\x41', 'x4gA'],
    ['a\\', 'a\\'],
  ],
  length: [
    ['', '0'],
    ['0123456789abcdef', '16'],
    ['0123456789\tabcdef', '17'],
    ['Test\x00Case', '9'],
    ['\xff'.repeat(1000), '1000'],
  ],
  lowercase: [
    ['', ''],
    ['testcase', 'testcase'],
    ['test\x00case', 'test\x00case'],
    ['TestCase', 'testcase'],
    ['Test\x00Case', 'test\x00case'],
    // ASCII letters only, as C's tolower()
    ['\xc0BC\xde', '\xc0bc\xde'],
    ['ABC\xb5', 'abc\xb5'],
  ],
  md5: [
    ['', '\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\t\x98\xec\xf8B~'],
    ['TestCase', '\xc9\xab\xa2\xc3\xe6\x01&\x16\x9e\x80\xe9\xa2k\xa2s\xc1'],
    ['\x00\x01\x02\x03\x04\x05\x06\x07\x08', '\xa6\xe7\xd3\xb4o\xdf\xaf\x0b\xde*\x1f\x83*\x00\xd2\xde'],
    ['zimmerle', '-Se\x90)-B~N\x14\x82\x9aE\xbc\xfe\x89'],
  ],
  normalizePath: [
    ['', ''],
    ['/foo/bar/baz', '/foo/bar/baz'],
    ['/foo/bar\x00/baz', '/foo/bar\x00/baz'],
    ['x', 'x'],
    ['.', ''],
    ['./', ''],
    ['./..', '..'],
    ['./../', '../'],
    ['..', '..'],
    ['../', '../'],
    ['../.', '..'],
    ['.././', '../'],
    ['../..', '../..'],
    ['../../', '../../'],
    ['/dir/foo//bar', '/dir/foo/bar'],
    ['dir/foo//bar/', 'dir/foo/bar/'],
    ['dir/../foo', 'foo'],
    ['dir/../../foo', '../foo'],
    ['dir/./.././../../foo/bar', '../../foo/bar'],
    ['dir/./.././../../foo/bar/.', '../../foo/bar'],
    ['dir/./.././../../foo/bar/./', '../../foo/bar/'],
    ['dir/./.././../../foo/bar/..', '../../foo'],
    ['dir/./.././../../foo/bar/../', '../../foo/'],
    ['dir/./.././../../foo/bar/', '../../foo/bar/'],
    ['dir//.//..//.//..//..//foo//bar', '../../foo/bar'],
    ['dir//.//..//.//..//..//foo//bar//', '../../foo/bar/'],
    ['dir/subdir/subsubdir/subsubsubdir/../../..', 'dir'],
    ['dir/./subdir/./subsubdir/./subsubsubdir/../../..', 'dir'],
    ['dir/./subdir/../subsubdir/../subsubsubdir/..', 'dir'],
    ['/dir/./subdir/../subsubdir/../subsubsubdir/../', '/dir/'],
    ['/./.././../../../../../../../\x00/../etc/./passwd', '/etc/passwd'],
    // ModSecurity's quirks: a segment ending in ".." counts as "..", and so on
    ['x/a../b', 'x/b'],
    ['ab..', ''],
    ['a..', 'a..'],
    ['/..', ''],
    ['/../a', '/a'],
    ['a/.../b', 'a/b'],
    ['/a/b./../c', '/a/c'],
    ['//', '/'],
    ['/', '/'],
    ['a//', 'a/'],
    ['.a/..', ''],
    ['x/..a/b', 'x/..a/b'],
    ['/a/b/c/../../../..', ''],
    ['a/b/../../../c', '../c'],
    ['a\\..\\b', 'a\\..\\b'],
  ],
  normalizePathWin: [
    ['', ''],
    ['\\foo\\bar\\baz', '/foo/bar/baz'],
    ['\\foo\\bar\x00\\baz', '/foo/bar\x00/baz'],
    ['x', 'x'],
    ['.', ''],
    ['.\\', ''],
    ['.\\..', '..'],
    ['.\\..\\', '../'],
    ['..', '..'],
    ['..\\', '../'],
    ['..\\.', '..'],
    ['..\\.\\', '../'],
    ['..\\..', '../..'],
    ['..\\..\\', '../../'],
    ['\\dir\\foo\\\\bar', '/dir/foo/bar'],
    ['dir\\foo\\\\bar\\', 'dir/foo/bar/'],
    ['dir\\..\\foo', 'foo'],
    ['dir\\..\\..\\foo', '../foo'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar', '../../foo/bar'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar\\.', '../../foo/bar'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar\\.\\', '../../foo/bar/'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar\\..', '../../foo'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar\\..\\', '../../foo/'],
    ['dir\\.\\..\\.\\..\\..\\foo\\bar\\', '../../foo/bar/'],
    ['dir\\\\.\\\\..\\\\.\\\\..\\\\..\\\\foo\\\\bar', '../../foo/bar'],
    ['dir\\\\.\\\\..\\\\.\\\\..\\\\..\\\\foo\\\\bar\\\\', '../../foo/bar/'],
    ['dir\\subdir\\subsubdir\\subsubsubdir\\..\\..\\..', 'dir'],
    ['dir\\.\\subdir\\.\\subsubdir\\.\\subsubsubdir\\..\\..\\..', 'dir'],
    ['dir\\.\\subdir\\..\\subsubdir\\..\\subsubsubdir\\..', 'dir'],
    ['\\dir\\.\\subdir\\..\\subsubdir\\..\\subsubsubdir\\..\\', '/dir/'],
    ['\\.\\..\\.\\..\\..\\..\\..\\..\\..\\..\\\x00\\..\\etc\\.\\passwd', '/etc/passwd'],
    ['C:\\Windows\\..\\boot.ini', 'C:/boot.ini'],
    ['a/b\\..\\c', 'a/c'],
    ['\\\\server\\share\\..\\x', '/server/x'],
    // three separators in a row: the last, not yet converted, is the one copied
    ['a\\\\\\b', 'a\\b'],
  ],
  parityEven7bit: [
    ['', ''],
    ['cefijloqrtwx03569ABDGHKMNPSUVYZ', 'cefijloqrtwx03569ABDGHKMNPSUVYZ'],
    [
      'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      '\xe1\xe2c\xe4ef\xe7\xe8ij\xebl\xed\xeeo\xf0qr\xf3t\xf5\xf6wx\xf9\xfa0\xb1\xb23\xb456\xb7\xb89AB\xc3D\xc5\xc6GH\xc9\xcaK\xccMN\xcfP\xd1\xd2S\xd4UV\xd7\xd8YZ',
    ],
    [
      'abcdefghijklmnopqrstuvwxyz\x000123456789\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      '\xe1\xe2c\xe4ef\xe7\xe8ij\xebl\xed\xeeo\xf0qr\xf3t\xf5\xf6wx\xf9\xfa\x000\xb1\xb23\xb456\xb7\xb89\x00AB\xc3D\xc5\xc6GH\xc9\xcaK\xccMN\xcfP\xd1\xd2S\xd4UV\xd7\xd8YZ',
    ],
    // all eight bits are counted, bit 7 included
    ['\x80\x81\xff', '\x80\x01\x7f'],
  ],
  parityOdd7bit: [
    ['', ''],
    ['abdghkmnpsuvyz12478CEFIJLOQRTW', 'abdghkmnpsuvyz12478CEFIJLOQRTW'],
    [
      'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      'ab\xe3d\xe5\xe6gh\xe9\xeak\xecmn\xefp\xf1\xf2s\xf4uv\xf7\xf8yz\xb012\xb34\xb5\xb678\xb9\xc1\xc2C\xc4EF\xc7\xc8IJ\xcbL\xcd\xceO\xd0QR\xd3T\xd5\xd6WX\xd9\xda',
    ],
    [
      'abcdefghijklmnopqrstuvwxyz\x000123456789\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      'ab\xe3d\xe5\xe6gh\xe9\xeak\xecmn\xefp\xf1\xf2s\xf4uv\xf7\xf8yz\x80\xb012\xb34\xb5\xb678\xb9\x80\xc1\xc2C\xc4EF\xc7\xc8IJ\xcbL\xcd\xceO\xd0QR\xd3T\xd5\xd6WX\xd9\xda',
    ],
    ['\x80\x81\xff', '\x00\x81\xff'],
  ],
  parityZero7bit: [
    ['', ''],
    ['abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    ['abcdefghijklmnopqrstuvwxyz\x000123456789\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz\x000123456789\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    ['\x80\x00\x8f\xff', '\x00\x00\x0f\x7f'],
  ],
  removeComments: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    // a comment that ends the value leaves a NUL byte (the byte after `*/` is copied unseen)
    ['/* TestCase */', '\x00'],
    ['/*TestCase*/', '\x00'],
    ['/* TestCase*/', '\x00'],
    ['/*TestCase */', '\x00'],
    ['Before/* TestCase */After', 'BeforeAfter'],
    ['Before TestCase */ After', 'Before TestCase */ After'],
    ['/* Test\\nCase */', '\x00'],
    ['/* Test\r\nCase */', '\x00'],
    ['/*Before/* Test\r\nCase ', ' '],
    ['Before /* Test\nCase ', 'Before  '],
    ['Before/* T*/ /* e */ /* s */ /* t */\r\nCase ', 'Before   \r\nCase '],
    ['Before /* */ ops */ Test\nCase ', 'Before  ops */ Test\nCase '],
    ['/*Test\r\nCase */After', 'After'],
    ['Test\nCase /**/ After', 'Test\nCase  After'],
    ['Test\r\nCase */After', 'Test\r\nCase */After'],
    ['Test/*\nCase */ After', 'Test After'],
    ['/*a*//*b*/c', '/*b*/c'],
    // `--` and `#` end the value
    ['SELECT 1 -- comment', 'SELECT 1 '],
    ['a#b', 'a'],
    ['a-', 'a-'],
    ['a--', 'a'],
    // either end marker closes either kind of comment
    ['<!-- x --> y', ' y'],
    ['/* x --> y', ' y'],
    ['<!-- x */y', 'y'],
    ['<!--', ' '],
  ],
  removeCommentsChar: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['/* TestCase */', ' TestCase '],
    ['/*TestCase*/', 'TestCase'],
    ['/* TestCase*/', ' TestCase'],
    ['/*TestCase */', 'TestCase '],
    ['Before/* TestCase */After', 'Before TestCase After'],
    ['Before /* TestCase */ After', 'Before  TestCase  After'],
    ['/* Test\r\nCase */', ' Test\r\nCase '],
    ['Before/* Test\r\nCase ', 'Before Test\r\nCase '],
    ['Test\r\nCase */After', 'Test\r\nCase After'],
    ['Test\nCase */ After', 'Test\nCase  After'],
    ['a--b', 'ab'],
    ['<!--x-->', 'x'],
    ['a#b', 'ab'],
    ['a-->b', 'ab'],
    ['*/*/', ''],
    ['<!-x', '<!-x'],
  ],
  removeNulls: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x01Case', 'Test\x01Case'],
    ['\x00TestCase', 'TestCase'],
    ['Test\x00Case', 'TestCase'],
    ['Test\x00\x00Case', 'TestCase'],
    ['TestCase\x00', 'TestCase'],
    ['\x00Test\x00Case\x00', 'TestCase'],
  ],
  removeWhitespace: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['  Test  \t   Case  ', 'TestCase'],
    [
      'This is a   test case with a tab \t, vtab \x0b, newline \n, return \r, formfeed \x0c, and a NUL\x00 in it with a CRLF at the end.\r\n',
      'Thisisatestcasewithatab,vtab,newline,return,formfeed,andaNUL\x00initwithaCRLFattheend.',
    ],
    ['\xa0a\x85', 'a\x85'],
    ['a\x0b\x0c\rb', 'ab'],
  ],
  replaceComments: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['/* TestCase */', ' '],
    ['/*TestCase*/', ' '],
    ['/* TestCase*/', ' '],
    ['/*TestCase */', ' '],
    ['Before/* TestCase */After', 'Before After'],
    ['Before /* TestCase */ After', 'Before   After'],
    ['/* Test\nCase */', ' '],
    ['/* Test\r\nCase */', ' '],
    ['/* Test\rCase */', ' '],
    ['Before/* Test\r\nCase ', 'Before '],
    ['Before /* Test\nCase ', 'Before  '],
    ['Test\r\nCase */After', 'Test\r\nCase */After'],
    ['Test\nCase */ After', 'Test\nCase */ After'],
    ['/*/', ' '],
    ['a/**/b/*x*/c', 'a b c'],
  ],
  replaceNulls: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['\x00TestCase', ' TestCase'],
    ['Test\x00Case', 'Test Case'],
    ['Test\x00\x00Case', 'Test  Case'],
    ['TestCase\x00', 'TestCase '],
    ['\x00Test\x00Case\x00', ' Test Case '],
  ],
  sha1: [
    ['', '\xda9\xa3\xee^kK\r2U\xbf\xef\x95`\x18\x90\xaf\xd8\x07\t'],
    ['TestCase', '\xa7\x0c\xe3\x83\x89\xe3\x18\xbd+\xe1\x8a\x01\x11\xc6\xdcv\xbd,\xd9\xed'],
    ['\x00\x01\x02\x03\x04\x05\x06\x07\x08', 'c\xbf`\xc7\x10Z\x07\xa2\xb1%\xbb\xf8\x9ea\xab\xda\xbcix\xc2'],
  ],
  sqlHexDecode: [
    ['', ''],
    ['0x414243', 'ABC'],
    ['SELECT 0x61646d696e', 'SELECT admin'],
    ['0X41', 'A'],
    ['0x410x42', 'AB'],
    ['x0x41', 'xA'],
    ['0x414', 'A4'],
    ['0x4', '0x4'],
    ['0x', '0x'],
    ['\x000x41', '\x00A'],
  ],
  trim: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['    TestCase', 'TestCase'],
    ['TestCase    ', 'TestCase'],
    ['    TestCase    ', 'TestCase'],
    ['    Test   Case    ', 'Test   Case'],
    ['    Test \x00 Case    ', 'Test \x00 Case'],
    [' \t   Test \x00 Case \t  \t   \r\n  ', 'Test \x00 Case'],
    // C's isspace(): no-break space is not trimmed
    ['\xa0a\xa0', '\xa0a\xa0'],
    ['\x0ba\x0c', 'a'],
    [' \t\n ', ''],
  ],
  trimLeft: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['TestCase    ', 'TestCase    '],
    ['    TestCase', 'TestCase'],
    ['    TestCase    ', 'TestCase    '],
    ['    Test   Case    ', 'Test   Case    '],
    ['    Test \x00 Case    ', 'Test \x00 Case    '],
    [' \t   Test \x00 Case \t  \t   \r\n  ', 'Test \x00 Case \t  \t   \r\n  '],
  ],
  trimRight: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ['    TestCase', '    TestCase'],
    ['TestCase    ', 'TestCase'],
    ['    TestCase    ', '    TestCase'],
    ['    Test   Case    ', '    Test   Case'],
    ['    Test \x00 Case    ', '    Test \x00 Case'],
    [' \t   Test \x00 Case \t  \t   \r\n  ', ' \t   Test \x00 Case'],
  ],
  uppercase: [
    ['', ''],
    ['testcase', 'TESTCASE'],
    ['test\x00case', 'TEST\x00CASE'],
    ['TestCase', 'TESTCASE'],
    // ASCII letters only, as C's toupper()
    ['abc\xe0\xff\xb5\xdf', 'ABC\xe0\xff\xb5\xdf'],
  ],
  urlDecode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ALL_PERCENT,
    ['Test+Case', 'Test Case'],
    ['%+', '% '],
    ['%%20', '% '],
    ['%0g%20', '%0g '],
    ['%0%20', '%0 '],
    ['%g0%20', '%g0 '],
    ['%g%20', '%g '],
    ['%0%1%2%3%4%5%6%7%8%9%0%a%b%c%d%e%f', '%0%1%2%3%4%5%6%7%8%9%0%a%b%c%d%e%f'],
    ['%g0%g1%g2%g3%g4%g5%g6%g7%g8%g9%g0%ga%gb%gc%gd%ge%gf', '%g0%g1%g2%g3%g4%g5%g6%g7%g8%g9%g0%ga%gb%gc%gd%ge%gf'],
    ['%0g%1g%2g%3g%4g%5g%6g%7g%8g%9g%0g%ag%bg%cg%dg%eg%fg', '%0g%1g%2g%3g%4g%5g%6g%7g%8g%9g%0g%ag%bg%cg%dg%eg%fg'],
    ['%', '%'],
    ['%0', '%0'],
    ['%%', '%%'],
    ['%0g', '%0g'],
    ['%gg', '%gg'],
    ['%u0041', '%u0041'],
    ['%2541', '%41'],
  ],
  urlDecodeUni: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['Test\x00Case', 'Test\x00Case'],
    ALL_PERCENT,
    ['Test+Case', 'Test Case'],
    ['+' + range(0, 255).map((b) => '%u00' + hex2(b)).join(''), ' ' + BEST_FIT_LATIN1],
    // code points without a best fit keep their low byte
    ['+' + range(0, 255).map((b) => '%u11' + hex2(b)).join(''), ' ' + ALL_BYTES],
    // full-width ASCII U+FF01–U+FF5E folds to ASCII; the rest of U+FFxx keeps its low byte
    [range(0x01, 0x5e).map((b) => '%uff' + hex2(b)).join(''), bytes(...range(0x21, 0x7e))],
    [range(0x7f, 0xff).map((b) => '%uff' + hex2(b)).join('') + '%uff00', bytes(...range(0x7f, 0xff), 0)],
    ['%+', '% '],
    ['%%20', '% '],
    ['%0g%20', '%0g '],
    ['%0%20', '%0 '],
    ['%g0%20', '%g0 '],
    ['%g%20', '%g '],
    ['%%u0020', '% '],
    ['%0g%u0020', '%0g '],
    ['%0%u0020', '%0 '],
    ['%g0%u0020', '%g0 '],
    ['%u%u0020', '%u '],
    ['%u0%u0020', '%u0 '],
    ['%u00%u0020', '%u00 '],
    ['%u000%u0020', '%u000 '],
    ['%u000g%u0020', '%u000g '],
    ['%0%1%2%3%4%5%6%7%8%9%0%a%b%c%d%e%f', '%0%1%2%3%4%5%6%7%8%9%0%a%b%c%d%e%f'],
    ['%g0%g1%g2%g3%g4%g5%g6%g7%g8%g9%g0%ga%gb%gc%gd%ge%gf', '%g0%g1%g2%g3%g4%g5%g6%g7%g8%g9%g0%ga%gb%gc%gd%ge%gf'],
    ['%0g%1g%2g%3g%4g%5g%6g%7g%8g%9g%0g%ag%bg%cg%dg%eg%fg', '%0g%1g%2g%3g%4g%5g%6g%7g%8g%9g%0g%ag%bg%cg%dg%eg%fg'],
    ['%', '%'],
    ['%0', '%0'],
    ['%%', '%%'],
    ['%0g', '%0g'],
    ['%gg', '%gg'],
    ['var%3d%20@.%3d%20%28%20SELECT', 'var= @.= ( SELECT'],
    ['%u201cAnd he is now the governor of Georgia.', '"And he is now the governor of Georgia.'],
    ['%u201dQuoted%u2019s%u2018 word%u2014dash', '"Quoted\'s\' word-dash'],
    ['%u0041%u00e9%u00e8', 'Aee'],
    ['/get?test=%uff0F', '/get?test=/'],
    ['%uff1cscript%u0020%uff1ealert%281%29%uff1c/script%uff1e', '<script >alert(1)</script>'],
    ['%u3002%uff61%uFF0E', '...'],
    ['%u0130%u00ff%u0178', 'IyY'],
    ['%U0041', 'A'],
    ['%u12345', '45'],
    ['%u123', '%u123'],
    ['%u00zz%41', '%u00zzA'],
    ['%u%41', '%uA'],
  ],
  urlEncode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    [
      ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}',
      '+%21%22%23%24%25%26%27%28%29*%2b%2c%2d%2e%2f0123456789%3a%3b%3c%3d%3e%3f%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5b%5c%5d%5e%5f%60abcdefghijklmnopqrstuvwxyz%7b%7c%7d',
    ],
    ['~\x7f\x80\xff\x00', '%7e%7f%80%ff%00'],
    ['Test Case', 'Test+Case'],
    ['% ', '%25+'],
    ['%0g ', '%250g+'],
    ['%0%1%2%3%4%5%6%7%8%9%0%a%b%c%d%e%f', '%250%251%252%253%254%255%256%257%258%259%250%25a%25b%25c%25d%25e%25f'],
    ['%', '%25'],
    ['%%', '%25%25'],
    ['%gg', '%25gg'],
  ],
  utf8toUnicode: [
    ['', ''],
    ['TestCase', 'TestCase'],
    ['caf\xc3\xa9 \xe6\x96\x87', 'caf%u00e9 %u6587'],
    ['\xc4\x80 \xd0\x81 \xd8\xa8 \xe2\x96\xa0 \xe2\x9c\x81', '%u0100 %u0401 %u0628 %u25a0 %u2701'],
    ['\xe2\x80\x99', '%u2019'],
    ['\xf0\x9f\x98\x80', '%u1f600'],
    ['\xf4\x8f\xbf\xbf', '%u10ffff'],
    // ModSecurity v2's handling of malformed UTF-8, byte for byte
    ['\xc0\xae', '%u002e\xc0'],
    ['\xe0\x80\xae', '%u002e\xe0'],
    ['\xed\xa0\x80', '%ud800\xed'],
    ['\xf0\x8d\xa0\x80', '%ud800\xf0\xf0'],
    ['\xf5\x80\x80\x80', '\xf5%u140000'],
    ['\xc3(', '('],
    ['a\xc3', 'a'],
    ['\xe2\x82', '\x82'],
    ['\x80\xbf', '\x80\xbf'],
    ['\xf8\xff', '\xf8\xff'],
    ['a\x00b', 'ab'],
  ],
};

/** SecLang names (as CRS and the references spell them) that stand for the same transformation. */
const ALIASES: Record<string, string> = { normalisePath: 'normalizePath', normalisePathWin: 'normalizePathWin' };

function named(name: string): Transformation {
  const found = transformation(name);
  assert.ok(found, `no transformation ${name}`);
  return found;
}

describe('transformation names', () => {
  it('has every transformation ModSecurity v2, libmodsecurity3 and Coraza document, and only those', () => {
    const expected = [...Object.keys(CASES), ...Object.keys(ALIASES)].map((name) => name.toLowerCase()).sort();
    assert.deepEqual([...TRANSFORMATIONS.keys()].sort(), expected);
    for (const [alias, name] of Object.entries(ALIASES)) assert.equal(named(alias), named(name));
  });

  it('looks names up in any case; none is the engine\'s', () => {
    assert.equal(transformation('urlDecodeUni'), TRANSFORMATIONS.get('urldecodeuni'));
    assert.equal(transformation('CMDLINE'), TRANSFORMATIONS.get('cmdline'));
    assert.equal(transformation('none'), undefined);
    assert.equal(transformation('t:lowercase'), undefined);
  });

  const CRS_RULES = new URL('../../../shared/crs/rules/', import.meta.url);
  const crsAbsent = existsSync(CRS_RULES) ? false : 'skipped: ../shared/crs/rules is not present';
  it('knows every transformation CRS uses', { skip: crsAbsent }, () => {
    const used = new Set<string>();
    for (const file of readdirSync(CRS_RULES).filter((name) => name.endsWith('.conf'))) {
      const directives = readFileSync(new URL(file, CRS_RULES), 'utf8').replace(/^\s*#.*$/gm, '');
      for (const match of directives.matchAll(/(?:^|[\s",])t:([A-Za-z0-9]+)/gm)) used.add(match[1]);
    }
    used.delete('none');
    assert.ok(used.size >= 15, `only ${used.size} transformations found in CRS`);
    for (const name of used) named(name);
  });
});

for (const [name, cases] of Object.entries(CASES)) {
  describe(name, () => {
    it(`gives the reference outputs (${cases.length} cases)`, () => {
      const transform = named(name);
      for (const [input, output] of cases) assert.equal(transform(input), output, `${name}(${JSON.stringify(input)})`);
    });
  });
}

describe('transformation chains', () => {
  it('decode CRS-style evasions layer by layer', () => {
    const chain = (names: string[], input: string) => names.reduce((value, name) => named(name)(value), input);
    const xss = ['utf8toUnicode', 'urlDecodeUni', 'htmlEntityDecode', 'jsDecode', 'cssDecode', 'removeNulls'];
    assert.equal(chain(xss, '%3Cscr%00ipt%3Ealert(1)%3C/script%3E'), '<script>alert(1)</script>');
    assert.equal(chain(xss, '&#x3c;img src=x onerror=\\u0061lert(1)&gt;'), '<img src=x onerror=alert(1)>');
    assert.equal(chain(['urlDecodeUni', 'jsDecode', 'htmlEntityDecode'], '%24%5Cu007Bjndi%3Aldap'), '${jndi:ldap');
    assert.equal(chain(['utf8toUnicode', 'urlDecodeUni', 'normalizePathWin'], 'a\\..\\..%2fetc%2fpasswd'), '../etc/passwd');
    assert.equal(chain(['sha1', 'hexEncode'], 'abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

/** Bytes with the markers the transformations look for over-represented. */
const markedBytes = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 255 }).map((byte) => String.fromCharCode(byte)),
    fc.constantFrom('%', '+', '&', '#', ';', '\\', '/', '*', '-', '<!--', '-->', '%u', '&#x', '0x', '.', '..', ' ', 'u', 'x', 'F', '0', '\xc3', '\xe2\x80', '\x00'),
  ),
  maxLength: 64,
});

describe('every transformation, on arbitrary bytes', () => {
  it('returns a binary string and does not throw', () => {
    fc.assert(
      fc.property(markedBytes, (input) => {
        for (const [name, transform] of TRANSFORMATIONS) {
          const output = transform(input);
          assert.equal(typeof output, 'string', name);
          for (let i = 0; i < output.length; i++) assert.ok(output.charCodeAt(i) <= 0xff, `${name}(${JSON.stringify(input)}) has a char above 0xff`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives outputs that later calls leave alone (the shared output buffer is copied out)', () => {
    fc.assert(
      fc.property(markedBytes, markedBytes, (first, second) => {
        for (const [name, transform] of TRANSFORMATIONS) {
          const output = transform(first);
          const copy = Buffer.from(output, 'latin1').toString('latin1');
          for (const other of TRANSFORMATIONS.values()) other(second);
          assert.equal(output, copy, name);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('decodes the same whether escapes are sparse, dense or among long plain runs', () => {
    // sparse escapes are joined as slices, dense ones decoded in place, where long plain runs move at once
    const value = (escape: string) => ('x'.repeat(200) + escape).repeat(3) + escape.repeat(5) + 'y'.repeat(300) + escape + 'z';
    const decoded = 'x'.repeat(200) + 'A' + 'x'.repeat(200) + 'A' + 'x'.repeat(200) + 'A' + 'AAAAA' + 'y'.repeat(300) + 'Az';
    for (const [name, escape] of [['urlDecode', '%41'], ['urlDecodeUni', '%u0041'], ['htmlEntityDecode', '&#65;'], ['jsDecode', '\\x41'], ['cssDecode', '\\41 '], ['escapeSeqDecode', '\\101']]) {
      assert.equal(named(name)(value(escape)), decoded, name);
    }
  });

  it('decodes values longer than the kept output buffer', () => {
    const long = '%41'.repeat(400_000) + '&lt;'.repeat(100_000);
    assert.equal(named('urlDecode')(long), 'A'.repeat(400_000) + '&lt;'.repeat(100_000));
    assert.equal(named('htmlEntityDecode')(long), '%41'.repeat(400_000) + '<'.repeat(100_000));
    assert.equal(named('urlEncode')('\x00'.repeat(500_000)), '%00'.repeat(500_000));
  });
});
