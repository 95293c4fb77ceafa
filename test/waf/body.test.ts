// The request-data parsers (src/waf/body/): table-driven cases whose expectations were checked
// against ModSecurity 2.9.7 (libxml2, yajl) where ModSecurity is the reference, and properties:
// no parser throws, whatever the bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseUrlEncoded } from '../../src/waf/body/urlencoded.ts';
import { parseCookies } from '../../src/waf/body/cookies.ts';
import { parseMultipart, type MultipartFlags } from '../../src/waf/body/multipart.ts';
import { parseJson } from '../../src/waf/body/json.ts';
import { parseXml, XML_PARSE_FAILED } from '../../src/waf/body/xml.ts';

/** Bytes as a binary string, from UTF-8 text (what `Buffer#toString('latin1')` gives the WAF). */
const bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

describe('parseUrlEncoded', () => {
  const cases: Array<[string, Array<[string, string]>, boolean]> = [
    ['', [], false],
    ['a=1&b=2', [['a', '1'], ['b', '2']], false],
    ['a', [['a', '']], false],
    ['a=', [['a', '']], false],
    ['=v', [['', 'v']], false],
    ['a=1=2', [['a', '1=2']], false],
    ['a&&b', [['a', ''], ['', ''], ['b', '']], false],
    ['&a', [['', ''], ['a', '']], false],
    ['a&', [['a', '']], false],
    ['&', [['', '']], false],
    ['a+b=c+d', [['a b', 'c d']], false],
    ['%41%42=%3d%2B', [['AB', '=+']], false],
    ['n=%e9%00', [['n', '\xe9\x00']], false],
    ['n=%4', [['n', '%4']], true],
    ['n=%zz1', [['n', '%zz1']], true],
    ['%%41=1', [['%A', '1']], true],
    ['n=100%', [['n', '100%']], true],
    ['x=%41&y=%', [['x', 'A'], ['y', '%']], true],
  ];
  for (const [input, args, invalid] of cases) {
    it(JSON.stringify(input), () => {
      const result = parseUrlEncoded(input);
      assert.deepEqual(result.args, args);
      assert.equal(result.invalidEncoding, invalid);
      assert.equal(result.error, undefined);
    });
  }

  it('splits on SecArgumentSeparator', () => {
    assert.deepEqual(parseUrlEncoded('a=1;b=2&c', { separator: ';' }).args, [['a', '1'], ['b', '2&c']]);
  });

  it('drops arguments past the limit and says so', () => {
    const result = parseUrlEncoded('a=1&b=2&c=%', { argumentsLimit: 2 });
    assert.deepEqual(result.args, [['a', '1'], ['b', '2']]);
    assert.equal(result.error, 'SecArgumentsLimit exceeded');
    assert.equal(result.invalidEncoding, true, 'arguments past the limit are still decoded');
  });
});

describe('parseCookies', () => {
  const cases: Array<[string[], Array<[string, string]>]> = [
    [['a=1; b=2'], [['a', '1'], ['b', '2']]],
    [['a=1;b=2;'], [['a', '1'], ['b', '2']]],
    [[';; a=1 ;;'], [['a', '1 ']]],
    [['a = b'], [['a ', ' b']]],
    [['flag'], [['flag', '']]],
    [['=x; y='], [['y', '']]],
    [['a=b=c'], [['a', 'b=c']]],
    [['a="q; r"'], [['a', '"q'], ['r"', '']]],
    [['a=%41+'], [['a', '%41+']]],
    [['\ta=1 \t'], [['a', '1']]],
    [['a=1, b=2'], [['a', '1, b=2']]],
    [['$Version=1; s="x"'], [['$Version', '1'], ['s', '"x"']]],
    [['a=1', 'b=2'], [['a', '1'], ['b', '2']]],
    [['   '], []],
  ];
  for (const [headers, cookies] of cases) {
    it(JSON.stringify(headers), () => assert.deepEqual(parseCookies(headers), cookies));
  }
});

describe('parseMultipart', () => {
  const CT = 'multipart/form-data; boundary=xyz';
  const crlf = (text: string): string => text.replace(/\n/g, '\r\n');
  const clean = crlf(
    '--xyz\nContent-Disposition: form-data; name="a"\n\nhello\nworld\n' +
      '--xyz\nContent-Disposition: form-data; name="f"; filename="x.php"\nContent-Type: text/plain\n\n<?php\n\n' +
      '--xyz\nContent-Disposition: form-data; name="empty"\n\n\n' +
      '--xyz--\n',
  );
  const noFlags: MultipartFlags = {
    boundaryQuoted: false, boundaryWhitespace: false, dataBefore: false, dataAfter: false, headerFolding: false,
    lfLine: false, crlfLine: true, crlfLfLines: false, missingSemicolon: false, invalidQuoting: false, invalidPart: false,
    invalidHeaderFolding: false, fileLimitExceeded: false, unmatchedBoundary: false, strictError: false,
  };

  it('reads fields, files and part headers of a clean body, with no flag raised', () => {
    const result = parseMultipart(CT, clean);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.args, [['a', 'hello\r\nworld'], ['empty', '']]);
    assert.deepEqual(result.files, [{ name: 'f', filename: 'x.php', size: 7, content: '<?php\r\n' }]);
    assert.equal(result.filesCombinedSize, 7);
    assert.deepEqual(result.partHeaders, [
      ['a', 'Content-Disposition: form-data; name="a"'],
      ['f', 'Content-Disposition: form-data; name="f"; filename="x.php"'],
      ['f', 'Content-Type: text/plain'],
      ['empty', 'Content-Disposition: form-data; name="empty"'],
    ]);
    assert.equal(result.name, 'empty');
    assert.equal(result.filename, 'x.php');
    assert.deepEqual(result.flags, noFlags);
  });

  it('accepts a final boundary without a line ending', () => {
    const result = parseMultipart(CT, clean.slice(0, -2));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.flags, noFlags);
  });

  const part = crlf('--xyz\nContent-Disposition: form-data; name="a"\n\nv\n');
  // [flag, Content-Type, body]; each raises that flag (and MULTIPART_STRICT_ERROR unless said).
  const flagged: Array<[keyof MultipartFlags, string, string]> = [
    ['boundaryQuoted', 'multipart/form-data; boundary="xyz"', part + '--xyz--\r\n'],
    ['boundaryWhitespace', 'multipart/form-data; boundary =xyz', part + '--xyz--\r\n'],
    ['boundaryWhitespace', 'multipart/form-data; boundary= xyz', crlf('-- xyz\nContent-Disposition: form-data; name="a"\n\nv\n-- xyz--\n')],
    ['missingSemicolon', 'multipart/form-data boundary=xyz', part + '--xyz--\r\n'],
    ['dataBefore', CT, 'preamble\r\n' + part + '--xyz--\r\n'],
    ['dataAfter', CT, part + '--xyz--\r\n\r\n'],
    ['dataAfter', CT, part + '--xyz--\r\nepilogue'],
    ['headerFolding', CT, crlf('--xyz\nContent-Disposition: form-data;\n name="a"\n\nv\n--xyz--\n')],
    ['invalidHeaderFolding', CT, crlf('--xyz\nContent-Disposition: form-data;\n\x0bname="a"\n\nv\n--xyz--\n')],
    ['lfLine', CT, '--xyz\nContent-Disposition: form-data; name="a"\n\nv\n--xyz--\n'],
    ['lfLine', CT, crlf('--xyz\nContent-Disposition: form-data; name="a"\n\n') + 'v\n--xyz--\r\n'],
    ['crlfLfLines', CT, crlf('--xyz\nContent-Disposition: form-data; name="a"\n\nv\n') + '--xyz--\n'],
    ['invalidQuoting', CT, crlf("--xyz\nContent-Disposition: form-data; name='a'\n\nv\n--xyz--\n")],
    ['invalidQuoting', CT, crlf("--xyz\nContent-Disposition: form-data; name=it's\n\nv\n--xyz--\n")],
    ['invalidPart', CT, crlf('--xyz\nContent-Disposition: form-data; name="a"\n\n--xyz\nContent-Disposition: form-data; name="b"\n\nv\n--xyz--\n')],
    ['invalidPart', CT, crlf('--xyz\nContent-Disposition: form-data; name="a"\n--xyz--')],
    ['unmatchedBoundary', CT, part + '--xyy\r\n--xyz--\r\n'],
    ['unmatchedBoundary', CT, crlf('--xyz\nContent-Disposition: form-data; name="a"\n\nsee --xyz here\n--xyz--\n')],
  ];
  for (const [flag, contentType, body] of flagged) {
    it(`raises ${flag} for ${JSON.stringify(contentType)} ${JSON.stringify(body.slice(0, 60))}`, () => {
      const { flags } = parseMultipart(contentType, body);
      assert.equal(flags[flag], true);
      assert.equal(flags.strictError, flag !== 'unmatchedBoundary' && flag !== 'crlfLine');
      assert.equal(parseMultipart(CT, clean).flags[flag], false, 'a clean body does not raise it');
    });
  }

  it('raises fileLimitExceeded past the file limit and keeps the file without content', () => {
    const body = crlf('--xyz\nContent-Disposition: form-data; name="f1"; filename="1"\n\none\n' +
      '--xyz\nContent-Disposition: form-data; name="f2"; filename="2"\n\ntwo\n--xyz--\n');
    const result = parseMultipart(CT, body, { fileLimit: 1 });
    assert.equal(result.flags.fileLimitExceeded, true);
    assert.equal(result.flags.strictError, true);
    assert.deepEqual(result.files.map((f) => [f.name, f.size, f.content]), [['f1', 3, 'one'], ['f2', 3, undefined]]);
    assert.equal(result.filesCombinedSize, 6);
    assert.equal(parseMultipart(CT, body, { fileLimit: 2 }).flags.fileLimitExceeded, false);
  });

  const errors: Array<[string, string, string]> = [
    ['multipart/form-data', part, 'Multipart: Boundary not found in C-T.'],
    ['multipart/form-data; BOUNDARY=xyz', part, 'Multipart: Invalid boundary in C-T (case sensitivity).'],
    ['multipart/form-data; boundary=xyz; boundary=abc', part, 'Multipart: Multiple boundary parameters in C-T.'],
    ['multipart/form-data; charset=utf-8; boundary=xyz', part, 'Multipart: Invalid boundary in C-T (malformed).'],
    ['multipart/form-data; boundary=xyz; charset=utf-8', part, 'Multipart: Invalid boundary in C-T (characters).'],
    ['multipart/form-data; boundary="xyz', part, 'Multipart: Invalid boundary in C-T (quote).'],
    ['multipart/form-data; boundary=""', part, 'Multipart: Invalid boundary in C-T (empty).'],
    ['multipart/form-data; boundary=a{b', part, 'Multipart: Invalid boundary in C-T (characters).'],
    ['multipart/form-data; boundaryx=1', part, 'Multipart: Invalid boundary in C-T (parameter name).'],
    ['text/plain; boundary=xyz', part, 'Multipart: Invalid MIME type.'],
    [CT, 'just text\r\n', 'Multipart parsing error: Multipart: No boundaries found in payload.'],
    [CT, part, 'Multipart parsing error: Multipart: Final boundary missing.'],
    [CT, crlf('--xyz \nContent-Disposition: form-data; name="a"\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid boundary: --xyz \\r\\n'],
    [CT, crlf('--xyz\nX-A: 1\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Part missing Content-Disposition header.'],
    [CT, crlf('--xyz\nContent-Disposition: form-data\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Content-Disposition header missing name field.'],
    [CT, crlf('--xyz\nContent-Disposition: form-data; name="a"; \n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid Content-Disposition header (-3): form-data; name="a"; .'],
    [CT, crlf('--xyz\nContent-Disposition: form-data; size=1\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid Content-Disposition header (-11): form-data; size=1.'],
    [CT, crlf('--xyz\nContent-Disposition: form-data; name="a"; filename ="b"\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid Content-Disposition header (filename).'],
    [CT, crlf('--xyz\nNoColon\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid part header (colon missing): NoColon\\r\\n.'],
    [CT, crlf('--xyz\n\x0eContent-Disposition: form-data; name="a"\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid part header (contains invalid character).'],
    [CT, crlf('--xyz\nX: 1\nx: 2\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Duplicate part header: x.'],
    [CT, crlf('--xyz\n folded\n\nv\n--xyz--\n'), 'Multipart parsing error: Multipart: Invalid part header (folding error).'],
    [CT, '--xyz\r\nX: a\0b\r\n\r\nv\r\n--xyz--\r\n', 'Multipart parsing error: Multipart: Nul byte in part headers.'],
    [CT, `--xyz\r\nX: ${'h'.repeat(5000)}\r\n\r\nv\r\n--xyz--\r\n`, 'Multipart parsing error: Multipart: Part header line over 4096 bytes long'],
    ['multipart/form-data; boundary="xyz"', '--"xyz"\r\n', 'Multipart parsing error: Multipart: Invalid boundary (quotes).'],
    [CT, '-- xyz\r\n', 'Multipart parsing error: Multipart: Invalid boundary (whitespace).'],
  ];
  for (const [contentType, body, message] of errors) {
    it(`fails with ${JSON.stringify(message)}`, () => {
      const result = parseMultipart(contentType, body);
      assert.equal(result.error, message);
      assert.deepEqual(result.args, []);
    });
  }

  it('keeps the files and part headers of parts completed before an error, but no argument', () => {
    const body = crlf('--xyz\nContent-Disposition: form-data; name="a"\n\nv\n--xyz\nContent-Disposition: form-data; name="f"; filename="x"\n\nfile\n--xyz\nBad\n');
    const result = parseMultipart(CT, body);
    assert.match(result.error!, /colon missing/);
    assert.deepEqual(result.args, []);
    assert.deepEqual(result.files.map((f) => f.name), ['f']);
    assert.deepEqual(result.partHeaders.map(([name]) => name), ['a', 'f']);
    assert.equal(result.flags.strictError, true);
  });

  it('does not count an unfinished body as a strict error (as ModSecurity does not)', () => {
    const result = parseMultipart(CT, part);
    assert.notEqual(result.error, undefined);
    assert.equal(result.flags.strictError, false);
  });

  it('cuts lines at 4096 bytes: a boundary inside a long line is not one', () => {
    const body = crlf(`--xyz\nContent-Disposition: form-data; name="a"\n\n${'x'.repeat(4096)}--xyz--\nv\n--xyz--\n`);
    const result = parseMultipart(CT, body);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.args, [['a', `${'x'.repeat(4096)}--xyz--\r\nv`]]);
    assert.equal(result.flags.unmatchedBoundary, false);
  });

  it('reads the boundary as a C string: a NUL hides what follows it', () => {
    const body = crlf('--xyz\nContent-Disposition: form-data; name="a"\n\n') + '\0--xyz--\r\nv\r\n--xyz--\r\n';
    assert.deepEqual(parseMultipart(CT, body).args, [['a', '\0--xyz--\r\nv']]);
  });

  it('stops at the arguments limit', () => {
    const body = crlf('--xyz\nContent-Disposition: form-data; name="a"\n\n1\n--xyz\nContent-Disposition: form-data; name="b"\n\n2\n--xyz--\n');
    const result = parseMultipart(CT, body, { argumentsLimit: 1 });
    assert.deepEqual(result.args, [['a', '1']]);
    assert.equal(result.error, 'SecArgumentsLimit exceeded');
    assert.equal(result.flags.strictError, false);
  });

  it('unescapes quoted Content-Disposition values', () => {
    const body = crlf('--xyz\nContent-Disposition: form-data; name="a\\"b\\\\c\\d"; filename="C:\\\\x.txt"\n\nv\n--xyz--\n');
    const result = parseMultipart(CT, body);
    assert.deepEqual(result.files.map((f) => [f.name, f.filename]), [['a"b\\c\\d', 'C:\\x.txt']]);
  });
});

describe('parseJson', () => {
  const cases: Array<[string, Array<[string, string]>]> = [
    ['{"a": {"b": 1}}', [['json.a.b', '1']]],
    ['{"c": [1, [2]]}', [['json.c.0', '1'], ['json.c.1.0', '2'], ['json.c.1', '1'], ['json.c', '2']]],
    ['[{"q": "x"}]', [['json.0.q', 'x'], ['json', '1']]],
    ['"text"', [['json', 'text']]],
    ['42', [['json', '42']]],
    ['{"e": [], "o": {}}', []],
    ['{"t": true, "f": false, "n": null, "x": -1.5e+3}', [['json.t', 'true'], ['json.f', 'false'], ['json.n', ''], ['json.x', '-1.5e+3']]],
    ['{"a": 1, "a": 2}', [['json.a', '1'], ['json.a', '2']]],
    ['{"": 1}', [['json.', '1']]],
    ['{"; select": "foo"}', [['json.; select', 'foo']]],
    ['{"s": "\\u00e9\\ud83d\\ude00\\n\\/"}', [['json.s', bytes('é😀\n/')]]],
    ['{"s": "\\ud83d!"}', [['json.s', '?!']]],
    [bytes('{"é": "ü"}'), [[bytes('json.é'), bytes('ü')]]],
    ['', []],
  ];
  for (const [input, args] of cases) {
    it(JSON.stringify(input), () => {
      const result = parseJson(input);
      assert.equal(result.error, undefined);
      assert.deepEqual(result.args, args);
    });
  }

  const errors: Array<[string, string]> = [
    ['  ', 'JSON parser error: parse error: premature EOF'],
    ['{"a":', 'JSON parser error: parse error: premature EOF'],
    ['tru', 'JSON parser error: lexical error: invalid string in json text.'],
    ['trux', 'JSON parsing error: lexical error: invalid string in json text.'],
    ['{"a":1,}', 'JSON parsing error: parse error: invalid object key (must be a string)'],
    ['[1,]', 'JSON parsing error: parse error: unallowed token at this point in JSON text'],
    ['{"a" 1}', "JSON parsing error: parse error: object key and value must be separated by a colon (':')"],
    ['{"a":1 "b":2}', "JSON parsing error: parse error: after key and value, inside map, I expect ',' or '}'"],
    ['[1 2]', "JSON parsing error: parse error: after array element, I expect ',' or ']'"],
    ['01', 'JSON parsing error: parse error: trailing garbage'],
    ['{} x', 'JSON parsing error: parse error: trailing garbage'],
    ['-', 'JSON parsing error: lexical error: malformed number, a digit is required after the minus sign.'],
    ['1.', 'JSON parsing error: lexical error: malformed number, a digit is required after the decimal point.'],
    ['1e+', 'JSON parsing error: lexical error: malformed number, a digit is required after the exponent.'],
    ['"\\q"', "JSON parsing error: lexical error: inside a string, '\\' occurs before a character which it may not."],
    ['"\\u12"', "JSON parsing error: lexical error: invalid (non-hex) character occurs after '\\u' inside string."],
    ['"\x01"', 'JSON parsing error: lexical error: invalid character inside string.'],
    ['"\xff"', 'JSON parsing error: lexical error: invalid bytes in UTF8 string.'],
    ['{a:1}', 'JSON parsing error: parse error: invalid object key (must be a string)'],
    ["{'a':1}", 'JSON parsing error: parse error: invalid object key (must be a string)'],
  ];
  for (const [input, message] of errors) {
    it(`fails on ${JSON.stringify(input)}`, () => assert.equal(parseJson(input).error, message));
  }

  it('keeps the arguments read before an error', () => {
    assert.deepEqual(parseJson('{"a": 1, "b": [2, }').args, [['json.a', '1'], ['json.b.0', '2']]);
  });

  it('limits depth, without recursion', () => {
    const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
    assert.equal(parseJson(deep(3), { depthLimit: 3 }).error, undefined);
    assert.equal(parseJson(deep(4), { depthLimit: 3 }).error, 'JSON parsing error: JSON depth limit exceeded');
    assert.equal(parseJson(deep(10000)).error, undefined);
    assert.equal(parseJson('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)).error, 'JSON parsing error: JSON depth limit exceeded');
  });

  it('stops at the arguments limit', () => {
    const result = parseJson('[1, 2, 3]', { argumentsLimit: 2 });
    assert.deepEqual(result.args, [['json.0', '1'], ['json.1', '2']]);
    assert.equal(result.error, 'SecArgumentsLimit exceeded');
  });
});

describe('parseXml', () => {
  const cases: Array<[string, string | undefined, string[]]> = [
    ['', undefined, []],
    ['<a>text</a>', 'text', []],
    ['<?xml version="1.0"?>\n<root>\n  <a probe="1234 AS &quot;x&quot;">v1</a>\n  <b>v2</b>\n</root>\n', '\n  v1\n  v2\n', ['1234 AS "x"']],
    ['<a x="1" y=\'2\'><b z="3"/>t</a>', 't', ['1', '2', '3']],
    ['<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x263a;</a>', bytes('<>&\'"A☺'), []],
    ['<a><![CDATA[<script>]]>x<!-- c --><?pi d?></a>', '<script>x', []],
    ['<a b="t\tn\nr\r\nx&#10;"/>', '', ['t n r x\n']],
    ['<a>1\r\n2\r3</a>', '1\n2\n3', []],
    ['<a xmlns="u" xmlns:p="v" p:q="w"/>', '', ['w']],
    ['<!DOCTYPE a [<!ENTITY e "x"><!ELEMENT a ANY>]><a>&e;</a>', '&e;', []],
    ['<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>x</a>', 'x', []],
    [bytes('<a é="ü">ß</a>'), bytes('ß'), [bytes('ü')]],
    ['<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', bytes('é'), []],
    ['\xff\xfe<\0a\0>\0\xe9\0<\0/\0a\0>\0', bytes('é'), []],
    ['\xef\xbb\xbf<a>x</a>', 'x', []],
  ];
  for (const [input, rootText, attributes] of cases) {
    it(JSON.stringify(input), () => {
      const result = parseXml(input);
      assert.equal(result.error, undefined);
      assert.equal(result.rootText, rootText);
      assert.deepEqual(result.attributeValues, attributes);
    });
  }

  const malformed = [
    '  ', 'text', '<a>', '<a></b>', '<a><b></a></b>', '<a></a><b></b>', '<a></a>x', '<a>x]]>y</a>', '<a>&foo;</a>', '<a>&#0;</a>',
    '<a>& b</a>', '<a x="1" x="2"/>', '<a x="1"y="2"/>', '<a x=1/>', '<a x="<"/>', '<a>\x01</a>', '<a>\xff</a>', '<a>\xed\xa0\x80</a>',
    '<a><!-- a -- b --></a>', '<a><?xml version="1.0"?></a>', ' <?xml version="1.0"?><a/>', '<?xml?><a/>', '<?xml version="1.0"&x;?><a/>',
    '<!DOCTYPE a [<!ENTITY f<b>]><a/>', '<?xml version="1.0" encoding="bogus"?><a>\xe9</a>', '<1a/>',
  ];
  for (const input of malformed) {
    it(`fails on ${JSON.stringify(input)}`, () => assert.equal(parseXml(input).error, XML_PARSE_FAILED));
  }

  it('keeps what was read before an error', () => {
    const result = parseXml('<a x="1">text<b y="2"></c>');
    assert.equal(result.error, XML_PARSE_FAILED);
    assert.equal(result.rootText, 'text');
    assert.deepEqual(result.attributeValues, ['1', '2']);
  });

  it("limits nesting to libxml2's 256", () => {
    const deep = (d: number) => '<a>'.repeat(d) + '</a>'.repeat(d);
    assert.equal(parseXml(deep(256)).error, undefined);
    assert.equal(parseXml(deep(257)).error, XML_PARSE_FAILED);
  });
});

describe('every parser', () => {
  // Binary strings, and strings built from each format's own syntax so that deep paths are hit.
  const binary = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'));
  const pieces = (alphabet: string[]) => fc.array(fc.oneof(fc.constantFrom(...alphabet), binary), { maxLength: 30 }).map((p) => p.join(''));
  const multipartPieces = pieces(['--xyz', '--xyz--', '\r\n', '\n', 'Content-Disposition: form-data; name="a"', '; filename="f"', ' ', '\t', '"', "'", '\\', ':', '\0', '\r']);
  const jsonPieces = pieces(['{', '}', '[', ']', ',', ':', '"', '\\u', '\\', 'true', 'null', '-1.5e3', ' ', '\xc3\xa9']);
  const xmlPieces = pieces(['<a>', '</a>', '<', '>', '/>', '&', ';', '&#', 'x="', '"', '<![CDATA[', ']]>', '<!--', '-->', '<?', '?>', '<!DOCTYPE a [', ']']);

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(binary, multipartPieces, jsonPieces, xmlPieces), binary, (data, header) => {
        parseUrlEncoded(data);
        parseUrlEncoded(data, { separator: ';', argumentsLimit: 3 });
        parseCookies([data, header]);
        parseMultipart('multipart/form-data; boundary=xyz', data, { fileLimit: 1, argumentsLimit: 2 });
        parseMultipart(header, data);
        parseJson(data, { depthLimit: 4, argumentsLimit: 5 });
        parseXml(data, { depthLimit: 4 });
      }),
      { numRuns: 2000 },
    );
  });

  it('returns binary strings (code units 0–255) only', () => {
    const isBinary = (s: string) => { for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false; return true; };
    fc.assert(
      fc.property(fc.oneof(binary, jsonPieces, xmlPieces), (data) => {
        for (const [name, value] of parseJson(data).args) assert.ok(isBinary(name) && isBinary(value));
        const xml = parseXml(data);
        for (const value of [xml.rootText ?? '', ...xml.attributeValues]) assert.ok(isBinary(value));
      }),
      { numRuns: 1000 },
    );
  });
});
