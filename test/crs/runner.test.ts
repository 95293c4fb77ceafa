// The CRS regression-suite runner (scripts/crs/): requests built byte for byte as go-ftw builds
// them, response parsing, expectation checks, overrides, and log attribution by markers.
// The expected bytes below follow go-ftw v2's ftwhttp/request.go and test/types.go by hand.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AuditLogTail, modsecEscape, parseAuditEntry, renderEntry, stageLog } from '../../scripts/crs/audit-log.ts';
import { evaluateStage } from '../../scripts/crs/check.ts';
import { exchange, parseResponseHead, ResponseParseError } from '../../scripts/crs/client.ts';
import { canonicalMimeHeaderKey, goBase64Decode } from '../../scripts/crs/go-compat.ts';
import { goRegexp, GoRegexpError } from '../../scripts/crs/go-regexp.ts';
import { executeGoTemplate, TemplateError, TemplateUnsupported } from '../../scripts/crs/go-template.ts';
import { parseTestFile, TestFileError } from '../../scripts/crs/load-tests.ts';
import { detectContentType } from '../../scripts/crs/origin.ts';
import { applyOverrides, OverridesError, parseOverrides } from '../../scripts/crs/overrides.ts';
import { buildMarkerRequest, buildStageRequest, RequestBuildError } from '../../scripts/crs/request.ts';
import { emptyOutput, type FtwTest, type StageOutput } from '../../scripts/crs/types.ts';

/** The single stage of a one-test file whose `input` is the given YAML (indented 10). */
function stageFromYaml(input: string, output = '          log:\n            expect_ids: [1]'): FtwTest {
  const text = `rule_id: 100\ntests:\n  - test_id: 1\n    stages:\n      - input:\n${input}\n        output:\n${output}\n`;
  return parseTestFile(text, 'x.yaml').tests[0]!;
}

function requestOf(input: string): string {
  return buildStageRequest(stageFromYaml(input).stages[0]!.input).toString('latin1');
}

describe('requests, byte for byte as go-ftw builds them', () => {
  test('defaults, a headers map sorted by name (bytewise), Connection: close appended', () => {
    const raw = requestOf(['          headers:', '            User-Agent: t', '            Host: localhost', '            accept: "*/*"'].join('\n'));
    // "Host" < "User-Agent" < "accept": Go sorts the map's keys bytewise, upper case first.
    assert.equal(raw, 'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\naccept: */*\r\nConnection: close\r\n\r\n');
  });

  test('form data: Content-Type added, each key and value QueryEscaped, the trailing & dropped', () => {
    const raw = requestOf(['          method: POST', '          uri: /post', '          headers:', '            Host: localhost', '          data: "a b=c/d&e=é&flag&"'].join('\n'));
    assert.equal(
      raw,
      'POST /post HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: 23\r\n\r\na+b=c%2Fd&e=%C3%A9&flag',
    );
  });

  test("data holding '%' or '+' is taken as already encoded; another Content-Type leaves it alone", () => {
    assert.match(requestOf(['          method: POST', '          data: "a=%41 b"'].join('\n')), /\r\n\r\na=%41 b$/);
    assert.match(requestOf(['          method: POST', '          data: "a=1+1 b"'].join('\n')), /\r\n\r\na=1\+1 b$/);
    const withCharset = requestOf(['          method: POST', '          headers:', '            Content-Type: application/x-www-form-urlencoded; charset=utf-8', '          data: "a=b c"'].join('\n'));
    assert.match(withCharset, /\r\n\r\na=b c$/);
    // A header named in lower case still counts as the Content-Type (canonical names).
    const lower = requestOf(['          method: POST', '          headers:', '            content-type: text/plain', '          data: "a=b c"'].join('\n'));
    assert.equal(lower, 'POST / HTTP/1.1\r\ncontent-type: text/plain\r\nConnection: close\r\nContent-Length: 5\r\n\r\na=b c');
  });

  test('multipart bodies get CRLF line ends (also after an existing CR), counted in Content-Length', () => {
    const raw = requestOf(
      ['          method: POST', '          headers:', '            Content-Type: "multipart/form-data; boundary=XX"', '          data: "--XX\\nContent-Disposition: form-data; name=\\"a\\"\\r\\n\\nv\\n--XX--"'].join('\n'),
    );
    const body = '--XX\r\nContent-Disposition: form-data; name="a"\r\r\n\r\nv\r\n--XX--';
    assert.equal(raw, `POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });

  test('stop_magic / autocomplete_headers: false sends exactly the given headers and raw data', () => {
    const raw = requestOf(['          method: POST', '          stop_magic: true', '          headers:', '            Host: h', '          data: "a=b c"'].join('\n'));
    assert.equal(raw, 'POST / HTTP/1.1\r\nHost: h\r\n\r\na=b c');
    // autocomplete_headers wins over stop_magic.
    const both = requestOf(['          stop_magic: true', '          autocomplete_headers: true'].join('\n'));
    assert.equal(both, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
  });

  test("Content-Length by go-ftw's regular expression ^POST|PUT|PATCH|DELETE$, not by exact method", () => {
    assert.equal(requestOf('          method: XPUT'), 'XPUT / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.equal(requestOf('          method: UNDELETE'), 'UNDELETE / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.equal(requestOf('          method: OPTIONS'), 'OPTIONS / HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(requestOf('          method: GET\n          data: ""'), 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
  });

  test('the request line is taken as written: an empty version, odd methods and URIs', () => {
    assert.equal(requestOf('          version: ""\n          uri: "/a b"'), 'GET /a b \r\nConnection: close\r\n\r\n');
    assert.equal(requestOf('          version: HTTP\\1.0\n          method: "get"'), 'get / HTTP\\1.0\r\nConnection: close\r\n\r\n');
  });

  test('ordered_headers keep their order and duplicates; values are UTF-8', () => {
    const raw = requestOf(
      ['          ordered_headers:', '            - name: Host', '              value: a', '            - name: X-T', '              value: "ü"', '            - name: Host', '              value: b'].join('\n'),
    );
    assert.equal(Buffer.from(raw, 'latin1').toString('utf8'), 'GET / HTTP/1.1\r\nHost: a\r\nX-T: ü\r\nHost: b\r\nConnection: close\r\n\r\n');
  });

  test('encoded_request is sent as decoded (newlines in the base64 ignored); bad base64 is an error', () => {
    const wire = 'GET / HTTP/1.0\r\nHost:\r\n\r\n';
    const b64 = Buffer.from(wire).toString('base64');
    const t = stageFromYaml(`          encoded_request: "${b64.slice(0, 8)}\\n${b64.slice(8)}"\n          uri: /ignored`);
    assert.equal(buildStageRequest(t.stages[0]!.input).toString('latin1'), wire);
    assert.throws(() => buildStageRequest(stageFromYaml('          encoded_request: "R0VU*"').stages[0]!.input), RequestBuildError);
    assert.throws(() => goBase64Decode('R0VUIA'), /illegal base64/); // padding is required
  });

  test('data is a Go template: repeat works; a template that does not parse means no body', () => {
    const raw = requestOf(['          method: POST', '          stop_magic: true', '          data: |-', '            x={{ "ab" | repeat 3 }}!'].join('\n'));
    assert.equal(raw, 'POST / HTTP/1.1\r\n\r\nx=ababab!');
    // An unclosed action: go-ftw's GetData returns nil, so only the autocompleted headers remain.
    assert.equal(requestOf(['          method: POST', '          data: "a={{b"'].join('\n')), 'POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.throws(() => buildStageRequest(stageFromYaml('          data: "{{ now }}"').stages[0]!.input), RequestBuildError);
  });

  test('the marker request', () => {
    assert.equal(
      buildMarkerRequest('X-CRS-Test', '920100-1-abc-s', 'localhost').toString('latin1'),
      'GET /status/200 HTTP/1.1\r\nAccept: */*\r\nUser-Agent: go-ftw test agent\r\nHost: localhost\r\nX-CRS-Test: 920100-1-abc-s\r\nConnection: close\r\n\r\n',
    );
  });
});

describe('Go helpers', () => {
  test('CanonicalMIMEHeaderKey', () => {
    assert.equal(canonicalMimeHeaderKey('content-TYPE'), 'Content-Type');
    assert.equal(canonicalMimeHeaderKey('x_filename'), 'X_filename');
    assert.equal(canonicalMimeHeaderKey('bad key'), 'bad key');
  });

  test('text/template: trim markers, comments, escapes, pipelines', () => {
    assert.equal(executeGoTemplate('a  {{- "b" -}}  c').toString('latin1'), 'abc');
    assert.equal(executeGoTemplate('{{/* note */}}x{{ "\\x41\\u00e9" }}').toString('utf8'), 'xAé');
    assert.equal(executeGoTemplate('{{ repeat 2 (upper "ab") }}').toString(), 'ABAB');
    assert.equal(executeGoTemplate('{{ printf "%s-%d" "a" 3 }}').toString(), 'a-3');
    assert.throws(() => executeGoTemplate('{{ "a" | repeat "x" }}'), TemplateError);
    assert.throws(() => executeGoTemplate('{{ if 1 }}x{{ end }}'), TemplateUnsupported);
  });

  test('Go regular expressions in JavaScript', () => {
    assert.ok(goRegexp('(?i)abc').test('xABCx'));
    assert.ok(goRegexp('a.b').test('a\rb')); // Go's . matches \r
    assert.ok(!goRegexp('a.b').test('a\nb'));
    assert.ok(goRegexp('(?s)a.b').test('a\nb'));
    assert.ok(!goRegexp('a\\sb').test('a\vb')); // Go's \s has no \v
    assert.ok(goRegexp('\\Qa.b\\E$').test('xa.b') && !goRegexp('\\Qa.b\\E').test('axb'));
    assert.equal(goRegexp('(?P<n>\\d+)').exec('ab12')?.groups?.n, '12');
    assert.ok(goRegexp('[[:digit:]]+x').test('12x'));
    assert.ok(goRegexp('\\[id "\\d+"\\]').test('[id "920100"]'));
    assert.throws(() => goRegexp('a(?=b)'), GoRegexpError);
    assert.throws(() => goRegexp('(a)\\1'), GoRegexpError);
  });
});

describe('test files', () => {
  test("go-ftw's defaults and post-processing", () => {
    const file = parseTestFile(
      [
        '# rule_id absent: taken from the file name',
        'tests:',
        '  - stages:',
        '      - input: { port: 80, data: "" }',
        '        output:',
        '          log_contains: id "920100"',
        '          no_log_contains: nope',
        '          log: { no_expect_ids: [] }',
        '  - test_id: 7',
        '    stages:',
        '      - input: { stop_magic: true }',
        '        output: { status: [200, 403], expect_error: true }',
      ].join('\n'),
      'REQUEST-920-X/920100.yaml',
    );
    assert.deepEqual(file.tests.map((t) => t.id), ['920100-1', '920100-7']);
    const [a, b] = file.tests;
    assert.equal(a!.stages[0]!.input.data, '');
    assert.equal(a!.stages[0]!.input.autocompleteHeaders, true);
    // log_contains becomes match_regex; no_log_contains does not, since no_expect_ids is set.
    assert.equal(a!.stages[0]!.output.log.matchRegex, 'id "920100"');
    assert.equal(a!.stages[0]!.output.log.noMatchRegex, '');
    assert.equal(b!.stages[0]!.input.autocompleteHeaders, false);
    assert.deepEqual(b!.stages[0]!.output.status, [200, 403]);
    assert.equal(b!.stages[0]!.output.expectError, true);
  });

  test('scalars keep their text; wrong kinds make the file unreadable (go-ftw skips it)', () => {
    const t = stageFromYaml(['          uri: 0x10', '          headers:', '            Content-Length: 007'].join('\n'));
    assert.equal(t.stages[0]!.input.uri, '0x10');
    assert.deepEqual(t.stages[0]!.input.headers, [{ name: 'Content-Length', value: '007' }]);
    assert.throws(() => stageFromYaml('          uri: [a]'), TestFileError);
    assert.throws(() => parseTestFile('rule_id: 1\nrule_id: 2\n', 'x.yaml'), TestFileError);
    assert.deepEqual(parseTestFile('# only comments\n', '920539.yaml').tests, []);
  });
});

describe('responses', () => {
  test('heads are parsed like http.ReadResponse', () => {
    const head = parseResponseHead(Buffer.from('HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc'));
    assert.equal(head?.status, 403);
    assert.deepEqual(head?.headers, [['Content-Length', '3'], ['X-A', 'b']]);
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nX: y\r\n')), undefined); // incomplete
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.0 200\n\n'))?.status, 200); // bare LF, no reason
    assert.throws(() => parseResponseHead(Buffer.from('<html>\r\n\r\n')), ResponseParseError);
    assert.throws(() => parseResponseHead(Buffer.from('HTTP/1.1 20 OK\r\n\r\n')), /status code/);
    assert.throws(() => parseResponseHead(Buffer.from('ICY/1.1 200 OK\r\n\r\n')), /HTTP version/);
    assert.throws(() => parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')), /multiple Content-Length/);
  });

  /** A TCP server answering each connection with `reply(requestBytes, socket)`. */
  async function rawServer(reply: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => reply(socket));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    };
  }

  test('errors: a close without a response, garbage, a timeout; a server that closes after answering is fine', async () => {
    const req = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const closing = await rawServer((s) => s.end());
    assert.match((await exchange('127.0.0.1', closing.port, req, 2000)).error ?? '', /EOF/);
    await closing.close();
    const garbage = await rawServer((s) => s.end('hello\r\n\r\n'));
    assert.match((await exchange('127.0.0.1', garbage.port, req, 2000)).error ?? '', /malformed HTTP response/);
    await garbage.close();
    const silent = await rawServer(() => undefined);
    assert.match((await exchange('127.0.0.1', silent.port, req, 200)).error ?? '', /timeout/);
    await silent.close();
    const answer = await rawServer((s) => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbad request'));
    const r = await exchange('127.0.0.1', answer.port, req, 2000);
    assert.equal(r.error, undefined);
    assert.equal(r.response?.status, 400);
    assert.match(r.response!.raw.toString(), /bad request$/);
    await answer.close();
  });

  test('a 100 Continue is the status (as in Go); chunked bodies are read to the end', async () => {
    const server = await rawServer((s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\n');
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'), 20);
      setTimeout(() => s.write('2\r\nde\r\n0\r\n\r\n'), 40);
    });
    const r = await exchange('127.0.0.1', server.port, Buffer.from('POST / HTTP/1.1\r\n\r\n'), 2000);
    assert.equal(r.response?.status, 100);
    assert.match(r.response!.raw.toString(), /2\r\nde\r\n0\r\n\r\n$/);
    await server.close();
  });

  test("the origin's content sniffing (Go's DetectContentType) for reflected bodies", () => {
    assert.equal(detectContentType(Buffer.from('<html>\n<head>')), 'text/html; charset=utf-8');
    assert.equal(detectContentType(Buffer.from(' <?xml version="1.0"?>')), 'text/xml; charset=utf-8');
    assert.equal(detectContentType(Buffer.from('<?php echo 1; ?>')), 'text/plain; charset=utf-8');
    assert.equal(detectContentType(Buffer.from('a\x00b')), 'application/octet-stream');
  });
});

describe('expectations', () => {
  const ok = (status: number, raw = `HTTP/1.1 ${status} X\r\n\r\n`) => ({ response: { status, headers: [], raw: Buffer.from(raw) }, ms: 1 });
  const entry = (rules: { id: number; msg?: string; data?: string }[], messages: string[] = []) =>
    parseAuditEntry({ request_id: 'r1', marker: null, client: '127.0.0.1:5555', uri: '/x', status: 200, rules: rules.map((r) => ({ file: '/crs/rules/R.conf', line: 3, severity: 'CRITICAL', tags: ['t1'], ...r })), messages })!;
  const out = (patch: (o: StageOutput) => void): StageOutput => {
    const o = emptyOutput();
    patch(o);
    return o;
  };

  test('expect_error passes only on an error, and then nothing else is checked', () => {
    const o = out((x) => {
      x.expectError = true;
      x.status = [403];
    });
    assert.equal(evaluateStage(o, { error: 'EOF', ms: 1 }, undefined).passed, true);
    assert.equal(evaluateStage(o, ok(403), undefined).passed, false);
    assert.equal(evaluateStage(emptyOutput(), { error: 'EOF', ms: 1 }, undefined).passed, false);
  });

  test('status (one or a list) and response_contains', () => {
    assert.equal(evaluateStage(out((x) => (x.status = [400])), ok(400), undefined).passed, true);
    const v = evaluateStage(out((x) => (x.status = [400, 403])), ok(200), undefined);
    assert.deepEqual(v.problems, ['expected status 400 or 403, got 200']);
    assert.equal(evaluateStage(out((x) => (x.responseContains = '(?i)bad\\s+REQUEST')), ok(400, 'HTTP/1.1 400 Bad Request\r\n\r\n'), undefined).passed, true);
  });

  test('rule ids: expect_ids, no_expect_ids, isolated', () => {
    const log = stageLog([entry([{ id: 920100 }, { id: 949110 }])]);
    assert.equal(evaluateStage(out((x) => (x.log.expectIds = [920100])), ok(200), log).passed, true);
    assert.match(evaluateStage(out((x) => (x.log.expectIds = [920100, 920101])), ok(200), log).problems[0]!, /missing 920101 \(log had: 920100, 949110\)/);
    assert.equal(evaluateStage(out((x) => (x.log.noExpectIds = [949110])), ok(200), log).passed, false);
    assert.equal(evaluateStage(out((x) => { x.log.expectIds = [920100]; x.isolated = true; }), ok(200), log).passed, false);
    assert.match(evaluateStage(out((x) => (x.log.expectIds = [1])), ok(200), { unavailable: 'no marker' }).problems[0]!, /not known: no marker/);
  });

  test("CRS's log regexes match the rendered ModSecurity-style lines", () => {
    const log = stageLog([
      entry(
        [
          { id: 922130, msg: 'Multipart header contains characters outside of valid range', data: 'Matched Data: \\x0e found within MULTIPART_PART_HEADERS' },
          { id: 932200, msg: 'RCE Bypass Technique', data: 'Matched Data: $u found within REQUEST_HEADERS:Referer: #x=foo;cat$u /etc$u/passwd' },
          { id: 949110, msg: 'Inbound Anomaly Score Exceeded (Total Score: 10)' },
        ],
        ['Multipart parsing error: Multipart: Invalid part header (contains invalid character)'],
      ),
    ]);
    const matches = (re: string) => evaluateStage(out((x) => (x.log.matchRegex = re)), ok(200), log).passed;
    assert.ok(matches('\\[id "922130"\\].*\\[msg "Multipart header contains characters outside of valid range"\\]'));
    assert.ok(matches('Multipart parsing error: Multipart: Invalid part header \\(contains invalid character\\)'));
    assert.ok(matches('Matched Data: \\$u found within REQUEST_HEADERS:Referer: #x=foo;cat\\$u /etc\\$u/passwd'));
    assert.ok(matches('Inbound Anomaly Score Exceeded \\(Total Score: '));
    assert.ok(matches('id "949110"')); // old-style log_contains
    assert.ok(!matches('Outbound Anomaly Score Exceeded'));
    assert.equal(evaluateStage(out((x) => (x.log.noMatchRegex = '\\[id "\\d+"\\]')), ok(200), log).passed, false);
    assert.equal(evaluateStage(out((x) => (x.log.noMatchRegex = '\\[id "\\d+"\\]')), ok(200), stageLog([])).passed, true);
    assert.match(renderEntry(log.entries[0]!)[0]!, /^\[client 127\.0\.0\.1\] ModSecurity: Warning\. \[file "\/crs\/rules\/R\.conf"\] \[line "3"\] \[id "922130"\] \[msg "[^"]+"\] \[data "Matched Data: \\\\x0e found within MULTIPART_PART_HEADERS"\] \[severity "CRITICAL"\] \[tag "t1"\] \[uri "\/x"\] \[unique_id "r1"\]$/);
    assert.equal(modsecEscape('a"b\\c\u00e9\n'), 'a\\"b\\\\c\\xc3\\xa9\\x0a');
  });
});

describe('overrides', () => {
  const file = (body: string) => `version: v1\nmeta: { engine: x, platform: y }\ntest_overrides:\n${body}`;

  test('an override replaces the output of the listed tests (all stages, or stage_ids)', () => {
    const overrides = parseOverrides(file('  - rule_id: 100\n    test_ids: [1]\n    stage_ids: [1]\n    reason: because\n    output:\n      status: 400\n'), 'o.yaml');
    const text = 'rule_id: 100\ntests:\n  - stages:\n      - input: {}\n        output: { log: { expect_ids: [100] } }\n      - input: {}\n        output: { log: { expect_ids: [100] } }\n';
    const test0 = parseTestFile(text, 't.yaml').tests[0]!;
    const { test: applied, reasons } = applyOverrides(test0, overrides);
    assert.deepEqual(reasons, ['because']);
    assert.deepEqual(applied.stages[0]!.output.log.expectIds, [100]);
    assert.deepEqual(applied.stages[1]!.output.status, [400]);
    assert.deepEqual(applied.stages[1]!.output.log.expectIds, []);
    assert.deepEqual(test0.stages[1]!.output.log.expectIds, [100]); // the original is untouched
    assert.equal(applyOverrides({ ...test0, testId: 2 }, overrides).reasons.length, 0);
  });

  test('every entry needs test_ids and a reason; typos are refused; the project file loads', () => {
    assert.throws(() => parseOverrides(file('  - rule_id: 1\n    test_ids: [1]\n    output: {}\n'), 'o.yaml'), /reason/);
    assert.throws(() => parseOverrides(file('  - rule_id: 1\n    reason: r\n'), 'o.yaml'), /test_ids/);
    assert.throws(() => parseOverrides(file('  - rule_id: 1\n    test_ids: [1]\n    reason: r\n    ouptut: {}\n'), 'o.yaml'), OverridesError);
    assert.deepEqual(parseOverrides('version: v1\ntest_overrides: []\n', 'o.yaml'), []);
    const project = parseOverrides(readFileSync(new URL('overrides.yaml', import.meta.url), 'utf8'), 'test/crs/overrides.yaml');
    assert.ok(project.length > 0 && project.every((entry) => entry.reason.length > 0), 'the project file loads, every entry with its reason');
  });
});

describe('log attribution by markers', () => {
  test('a window is what lies strictly between its markers, without the runner\'s own entries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crs-audit-'));
    const path = join(dir, 'audit.jsonl');
    const line = (marker: string | null, ids: number[]) => JSON.stringify({ request_id: 'x', marker, uri: '/', rules: ids.map((id) => ({ id })) }) + '\n';
    writeFileSync(path, line('m0', [999999]) + line(null, [1]) + line('m1', [999999]));
    const tail = new AuditLogTail(path);
    const ours = new Set(['m0', 'm1', 'm2', 'm3']);
    assert.equal(await tail.waitForMarker('m1', performance.now() + 1000), 2);
    assert.deepEqual(stageLog(tail.window('m0', 'm1', ours)!).ids, [1]);
    // A line written in two pieces, a malformed line, an entry carrying a foreign marker.
    const next = line(null, [2]) + 'not json\n' + line('their-marker', [3]);
    appendFileSync(path, next.slice(0, 10));
    assert.equal(await tail.waitForMarker('m2', performance.now() + 30), undefined);
    appendFileSync(path, next.slice(10) + line('m2', [999999]) + line('m3', [999999]));
    assert.equal(await tail.waitForMarker('m2', performance.now() + 1000), 5); // the malformed line is not an entry
    assert.deepEqual(stageLog(tail.window('m1', 'm2', ours)!).ids, [2, 3]);
    assert.equal(tail.malformed, 1);
    tail.discardBefore(5);
    assert.deepEqual(tail.window('m2', 'm3', ours), []); // back-to-back markers: nothing between
    assert.equal(tail.window('m0', 'm1', ours), undefined); // discarded
    await tail.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('audit entries are read leniently: string ids, missing fields, message objects', () => {
    const e = parseAuditEntry({ marker: 'm', rules: [{ id: '920100', tags: ['a'] }, { id: 'x' }], messages: [{ message: 'hello' }, 'plain'] })!;
    assert.deepEqual(e.rules.map((r) => r.id), [920100]);
    assert.deepEqual(e.messages, ['hello', 'plain']);
    assert.equal(parseAuditEntry([1, 2]), undefined);
    assert.equal(parseAuditEntry({ rules: 'nope' }), undefined);
  });
});
