// The HTTP/1.x parser as a security boundary, from the outside: raw bytes on a socket to a running
// frontline, checked against what the origin behind it received. Request smuggling works when two
// parsers frame the same bytes differently; frontline must reject every ambiguous framing before
// anything reaches the origin, and frame what it accepts exactly one way.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawRequest, startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  body: string;
  te: string | undefined;
}

interface Response {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a server sent into responses (Content-Length or chunked framing; a final response without either runs to the end). */
function responses(raw: string, headRequests = 0): Response[] {
  const out: Response[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`incomplete response: ${JSON.stringify(rest.slice(0, 200))}`);
    const head = rest.slice(0, end);
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = '';
    const isHead = out.length < headRequests;
    if (status < 200 || status === 204 || status === 304 || isHead) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const nl = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, nl), 16);
        rest = rest.slice(nl + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf('\r\n') + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      body = rest;
      rest = '';
    }
    out.push({ status, head, headers, body });
  }
  return out;
}

/**
 * A conversation on one connection: sends `parts` (one write each, `gapMs` apart), then collects
 * what comes back until the server closes or `quietMs` pass without a byte. `closed` says which.
 */
function converse(port: number, parts: (string | Buffer)[], opts: { gapMs?: number; quietMs?: number } = {}): Promise<{ raw: string; closed: boolean }> {
  const quietMs = opts.quietMs ?? 800;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    let timer: NodeJS.Timeout | undefined;
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        socket.destroy();
        resolve({ raw, closed: false });
      }, quietMs);
    };
    socket.on('data', (d) => {
      raw += d.toString('latin1');
      quiet();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw, closed: true });
    });
    socket.on('error', (err) => (raw ? undefined : reject(err)));
    socket.on('connect', async () => {
      for (const part of parts) {
        socket.write(part);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      quiet();
    });
  });
}

describe('HTTP/1.x request parsing: smuggling and strictness', () => {
  let fl: Frontline;
  let origin: Origin;
  const seen: Seen[] = [];
  let holdClosed = 0;

  before(async () => {
    origin = await startOrigin((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, host: req.headers.host, body, te: req.headers['transfer-encoding'] });
        if (req.url === '/204') {
          res.writeHead(204, { 'x-origin': 'yes' });
          res.end();
        } else if (req.url === '/304') {
          res.writeHead(304, { etag: '"x"' });
          res.end();
        } else if (req.url === '/hold') {
          // Streams until the client side goes away: frontline must pass the client's departure on.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('start');
          const timer = setInterval(() => res.write('.'), 50);
          res.on('close', () => {
            clearInterval(timer);
            holdClosed = Date.now();
          });
        } else if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part one, ');
          setTimeout(() => res.end('part two'), 20);
        } else {
          const text = Buffer.from(`${req.method} ${req.url} [${body}]`, 'latin1');
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(text.length) });
          res.end(req.method === 'HEAD' ? undefined : text);
        }
      });
    });
    fl = await startFrontline({
      timeouts: { header: '2s', request: '3s' },
      limits: { max_header_size: '8KiB', max_body_size: '1MiB' },
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
    });
  });

  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  /** Sends `data` on a new connection: the server must answer `status`, close the connection, and pass nothing to the origin. */
  async function rejects(data: string | Buffer, status: number, reason?: RegExp): Promise<string> {
    const before = seen.length;
    const { raw, closed } = await converse(fl.port, [data], { quietMs: 3000 });
    assert.match(raw, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(data.toString().slice(0, 120)));
    if (reason) assert.match(raw, reason);
    assert.ok(closed, 'the connection is closed after the rejection');
    assert.equal(seen.length, before, `the origin saw nothing for ${JSON.stringify(data.toString().slice(0, 120))}`);
    return raw;
  }

  const post = (headers: string, body: string) => `POST /smuggle HTTP/1.1\r\nHost: a\r\n${headers}\r\n\r\n${body}`;

  it('CL.TE and TE.CL: both framing headers are refused, in either order, whatever follows', async () => {
    await rejects(post('Content-Length: 6\r\nTransfer-Encoding: chunked', '0\r\n\r\nG'), 400, /both Content-Length and Transfer-Encoding/);
    await rejects(post('Transfer-Encoding: chunked\r\nContent-Length: 3', '8\r\nSMUGGLED\r\n0\r\n\r\n'), 400, /both Content-Length and Transfer-Encoding/);
    await rejects(post('Content-Length: 0\r\nTransfer-Encoding: chunked', 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n'), 400);
  });

  it('Transfer-Encoding: only "chunked" alone frames a body; obfuscated or other codings are refused', async () => {
    for (const te of ['xchunked', 'chunked, identity', 'identity', 'chunkedx', 'chunked;q=1', '"chunked"', 'chunked,', ',chunked']) {
      await rejects(post(`Transfer-Encoding: ${te}`, '0\r\n\r\n'), 400, /Transfer-Encoding header is not valid/);
    }
    // Codings before chunked are well-formed but not implemented (as nginx).
    for (const te of ['gzip, chunked', 'identity, chunked']) await rejects(post(`Transfer-Encoding: ${te}`, '0\r\n\r\n'), 501);
    // Two Transfer-Encoding fields, whatever their values.
    await rejects(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', '0\r\n\r\n'), 400);
    await rejects(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', '0\r\n\r\n'), 400);
    // Whitespace or control characters around the name are not optional whitespace.
    await rejects(post('Transfer-Encoding : chunked', '0\r\n\r\n'), 400);
    await rejects(post(' Transfer-Encoding: chunked', '0\r\n\r\n'), 400);
    await rejects(post('Transfer-Encoding: \x0bchunked', '0\r\n\r\n'), 400);
    await rejects(post('Transfer-Encoding:\x00chunked', '0\r\n\r\n'), 400);
    // HTTP/1.0 has no Transfer-Encoding.
    await rejects('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
  });

  it('Transfer-Encoding with optional whitespace or another case is chunked, and framed as chunked', async () => {
    for (const te of ['chunked ', '\tchunked\t', 'Chunked', 'CHUNKED']) {
      const before = seen.length;
      const data = `POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
      const { raw } = await converse(fl.port, [data]);
      const [first, second] = responses(raw);
      assert.equal(first.status, 200, JSON.stringify(te));
      assert.equal(first.body, 'POST /te [hello]');
      assert.equal(second.body, 'GET /after []');
      assert.deepEqual(seen.slice(before).map((s) => `${s.method} ${s.url} ${s.body} ${s.te}`), ['POST /te hello chunked', 'GET /after  undefined']);
    }
  });

  it('Content-Length: digits only, once', async () => {
    for (const cl of ['+5', '-5', '5 5', '0x5', '5,5', '5, 5', '1e1', '', ' ', '99999999999999999999']) {
      await rejects(post(`Content-Length: ${cl}`, 'hello'), 400, /Content-Length header is not valid/);
    }
    await rejects(post('Content-Length: 5\x00', 'hello'), 400, /characters that are not allowed/);
    await rejects(post('Content-Length: 5\r\nContent-Length: 5', 'hello'), 400, /more than one Content-Length/);
    await rejects(post('Content-Length: 5\r\nContent-Length: 6', 'hello!'), 400, /more than one Content-Length/);
    // Optional whitespace around the value is not part of it.
    const before = seen.length;
    const { raw } = await converse(fl.port, [post('Content-Length:   5  ', 'hello')]);
    assert.equal(responses(raw)[0].body, 'POST /smuggle [hello]');
    assert.equal(seen.length, before + 1);
  });

  it('chunked bodies: sizes in hex without sign, whitespace or overflow; strict extensions; CR LF everywhere', async () => {
    const chunked = (body: string) => post('Transfer-Encoding: chunked', body);
    for (const body of [
      'ffffffffffffffffffff\r\nx\r\n0\r\n\r\n', // overflow
      '10000000000000000\r\nx\r\n0\r\n\r\n', // 2^64
      '-5\r\nhello\r\n0\r\n\r\n',
      '+5\r\nhello\r\n0\r\n\r\n',
      '0x5\r\nhello\r\n0\r\n\r\n',
      ' 5\r\nhello\r\n0\r\n\r\n',
      '5 \r\nhello\r\n0\r\n\r\n',
      '\r\nhello\r\n0\r\n\r\n',
      '5\nhello\r\n0\r\n\r\n', // bare LF after the size
      '5\r\nhello\n0\r\n\r\n', // bare LF after the data
      '5\r\nhelloX\r\n0\r\n\r\n', // data longer than its size
      '5\r\nhello\r\n0\r\n\n', // bare LF at the end
      '5;\r\nhello\r\n0\r\n\r\n',
      '5 ;ext\r\nhello\r\n0\r\n\r\n',
      '5;ext=\r\nhello\r\n0\r\n\r\n',
      '5;"ext"\r\nhello\r\n0\r\n\r\n',
      '5;a=b c\r\nhello\r\n0\r\n\r\n',
      '5;a="unterminated\r\nhello\r\n0\r\n\r\n',
      '5;a=\x01\r\nhello\r\n0\r\n\r\n',
      '5\r\nhello\r\n0\r\nTrailer : x\r\n\r\n', // trailer with whitespace before the colon
      '5\r\nhello\r\n0\r\nX: a\r\n folded\r\n\r\n', // folded trailer
    ]) {
      const before = seen.length;
      const { raw, closed } = await converse(fl.port, [chunked(body)], { quietMs: 3000 });
      // The request was handed on before its body turned out malformed: the origin may have seen
      // the start of it, but never a complete request with a body it would trust.
      assert.match(raw, /^HTTP\/1\.1 400 /, JSON.stringify(body));
      assert.ok(closed, JSON.stringify(body));
      assert.ok(!seen.slice(before).some((s) => s.url === '/smuggle' && s.body.length > 0), JSON.stringify(body));
    }
    // Extensions and trailers that are well formed are read and dropped.
    const before = seen.length;
    const { raw } = await converse(fl.port, [chunked('5;name=value;q="x y \\" z";flag\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n')]);
    assert.equal(responses(raw)[0].body, 'POST /smuggle [hello world]');
    assert.equal(seen.length, before + 1);
  });

  it('answers a chunk-size line longer than 4 KiB (extensions) with 413', async () => {
    const { raw, closed } = await converse(fl.port, [post('Transfer-Encoding: chunked', `5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`)], { quietMs: 3000 });
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.match(raw, /chunk extensions/);
    assert.ok(closed);
  });

  it('lines end with CR LF: a bare LF or CR anywhere in the head is refused (llhttp strict)', async () => {
    await rejects('GET / HTTP/1.1\nHost: a\n\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX: y\nZ: w\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\rHost: a\r\n\r\n', 400);
    // A bare LF is refused at once, without waiting for a CR LF CR LF that never comes.
    const t0 = Date.now();
    await rejects('GET / HTTP/1.1\nHost: a\n', 400);
    assert.ok(Date.now() - t0 < 1500);
  });

  it('header lines: a name, a colon, no whitespace before it, no folding, no control characters', async () => {
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, /characters that are not allowed/);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400, /folded/);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n', 400, /folded/);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /more than one Host/);
  });

  it('the request line: an upper-case method, one space, a target, HTTP/1.0 or 1.1', async () => {
    await rejects('get / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await rejects('GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 400);
    await rejects('GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await rejects('GET / HTTP/1.1x\r\nHost: a\r\n\r\n', 400);
    await rejects('GET /\r\nHost: a\r\n\r\n', 400);
    await rejects('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
    await rejects('GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await rejects('GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    await rejects('GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n', 400);
    // CONNECT opens no tunnel.
    const { raw, closed } = await converse(fl.port, ['CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n'], { quietMs: 3000 });
    assert.match(raw, /^HTTP\/1\.1 405 /);
    assert.ok(closed);
  });

  it('an absolute-form target: its authority is the host, its path and query go upstream', async () => {
    const before = seen.length;
    const { raw } = await converse(fl.port, ['GET http://Example.test:8080/x/y?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n']);
    assert.equal(responses(raw)[0].body, 'GET /x/y?q=1 []');
    assert.equal(seen[before].host, 'Example.test:8080');
    assert.equal(seen[before].url, '/x/y?q=1');
  });

  it('processes three pipelined requests in one packet in order, responses in order', async () => {
    const before = seen.length;
    const data =
      'GET /p1 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'POST /p2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /p3 HTTP/1.1\r\nHost: a\r\n\r\n';
    const { raw, closed } = await converse(fl.port, [data]);
    const rs = responses(raw);
    assert.deepEqual(rs.map((r) => r.body), ['GET /p1 []', 'POST /p2 [abc]', 'GET /p3 []']);
    assert.ok(rs.every((r) => r.headers.connection === 'keep-alive'));
    assert.ok(!closed, 'the connection stays open');
    assert.deepEqual(seen.slice(before).map((s) => s.url), ['/p1', '/p2', '/p3']);
  });

  it('ignores what follows a request with Connection: close', async () => {
    const before = seen.length;
    const data = 'GET /c1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /c2 HTTP/1.1\r\nHost: a\r\n\r\n';
    const { raw, closed } = await converse(fl.port, [data], { quietMs: 3000 });
    const rs = responses(raw);
    assert.equal(rs.length, 1);
    assert.equal(rs[0].headers.connection, 'close');
    assert.ok(closed);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen.slice(before).map((s) => s.url), ['/c1']);
  });

  it('a pipelined request is framed by its own Content-Length: no request hides in a body', async () => {
    const before = seen.length;
    const hidden = 'GET /hidden HTTP/1.1\r\nHost: a\r\n\r\n';
    const data = `POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
    const { raw } = await converse(fl.port, [data]);
    assert.deepEqual(responses(raw).map((r) => r.status), [200, 200]);
    assert.deepEqual(seen.slice(before).map((s) => s.url), ['/body', '/next']);
    assert.equal(seen[before].body, hidden);
  });

  it('keeps HTTP/1.0 connections alive only when asked', async () => {
    let r = await converse(fl.port, ['GET /old HTTP/1.0\r\n\r\n'], { quietMs: 3000 });
    assert.equal(responses(r.raw)[0].headers.connection, 'close');
    assert.ok(r.closed);
    r = await converse(fl.port, ['GET /old1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /old2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { gapMs: 200 });
    const rs = responses(r.raw);
    assert.deepEqual(rs.map((x) => x.body), ['GET /old1 []', 'GET /old2 []']);
    assert.ok(rs.every((x) => x.headers.connection === 'keep-alive'));
    assert.ok(!r.closed);
    // An origin's chunked response reaches an HTTP/1.0 client delimited by the connection's end.
    r = await converse(fl.port, ['GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { quietMs: 3000 });
    const [chunked] = responses(r.raw);
    assert.equal(chunked.headers['transfer-encoding'], undefined);
    assert.equal(chunked.headers.connection, 'close');
    assert.equal(chunked.body, 'part one, part two');
    assert.ok(r.closed);
  });

  it('sends no body for HEAD, 204 and 304, and keeps the connection usable', async () => {
    const data =
      'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n' +
      'GET /204 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'GET /304 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const { raw } = await converse(fl.port, [data], { quietMs: 3000 });
    const rs = responses(raw, 1);
    assert.deepEqual(rs.map((r) => r.status), [200, 204, 304, 200]);
    assert.equal(rs[0].headers['content-length'], String('HEAD /h []'.length));
    assert.equal(rs[3].body, 'GET /last []');
  });

  it('answers Expect: 100-continue before reading the body, and refuses other expectations with 417', async () => {
    const { raw } = await converse(
      fl.port,
      ['POST /expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'hello'],
      { gapMs: 300, quietMs: 3000 },
    );
    const [interim, final] = responses(raw);
    assert.equal(interim.status, 100);
    assert.equal(final.status, 200);
    assert.equal(final.body, 'POST /expect [hello]');
    await rejects('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\nhello', 417);
  });

  it('closes the connection after a final answer to a request that waits for 100 Continue', async () => {
    const before = seen.length;
    const { raw, closed } = await converse(fl.port, ['POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n'], { quietMs: 3000 });
    const [only, ...more] = responses(raw);
    assert.equal(only.status, 413, 'no 100 Continue before the refusal');
    assert.equal(only.headers.connection, 'close', 'the client may never send the body it announced');
    assert.equal(more.length, 0);
    assert.ok(closed);
    assert.equal(seen.length, before);
  });

  it('passes a client that leaves in the middle of a response on to the origin', async () => {
    holdClosed = 0;
    const socket = net.connect(fl.port, '127.0.0.1');
    socket.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const left = Date.now();
    socket.destroy();
    for (let i = 0; i < 40 && holdClosed === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(holdClosed > 0 && holdClosed - left < 1000, 'the origin request was aborted');
  });

  it('ignores empty lines before a request line', async () => {
    const { raw } = await converse(fl.port, ['\r\n\r\nGET /blank HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], { quietMs: 3000 });
    assert.equal(responses(raw)[0].body, 'GET /blank []');
  });

  it('takes a request head that arrives one byte at a time', async () => {
    const bytes = [...'GET /slowly HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'].map((c) => Buffer.from(c, 'latin1'));
    const { raw } = await converse(fl.port, bytes, { gapMs: 2, quietMs: 3000 });
    assert.equal(responses(raw)[0].body, 'GET /slowly []');
  });

  it('answers a head over max_header_size that arrives in pieces with 431', async () => {
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(9000)}\r\n\r\n`;
    const { raw, closed } = await converse(fl.port, [head.slice(0, 3000), head.slice(3000, 6000), head.slice(6000)], { gapMs: 50, quietMs: 3000 });
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.ok(closed);
    assert.equal(await rawRequest(fl.port, 'GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').then((r) => responses(r)[0].status), 200);
  });
});
