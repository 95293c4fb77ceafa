// The request path from the outside: a real frontline process between a client and real origins.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { accessLines, freePort, rawRequest, request, startFrontline, startOrigin, waitFor, type Frontline, type Origin } from '../helpers/servers.ts';

/** The body of a raw HTTP/1.1 response, de-chunked. */
function rawBody(raw: string): string {
  const at = raw.indexOf('\r\n\r\n');
  let rest = raw.slice(at + 4);
  if (!/^transfer-encoding: chunked/im.test(raw.slice(0, at))) return rest;
  let body = '';
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return body;
    body += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 4 + size);
  }
}

/** Streams `size` bytes as a chunked upload; resolves with the response (status and body) or, if the client stopped first, nothing. */
function chunkedUpload(port: number, path: string, size: number, stopAfter = Infinity): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may close while the upload is still going: the response, if any, is what counts.
    req.on('error', () => setTimeout(() => answered || resolve(undefined), 200));
    const pump = () => {
      while (sent < size && !answered && !req.destroyed) {
        if (sent >= stopAfter) {
          req.destroy();
          setTimeout(() => resolve(undefined), 200);
          return;
        }
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (sent >= size && !req.writableEnded) req.end();
    };
    pump();
  });
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('proxying through a frontline process', () => {
  let fl: Frontline;
  let app: Origin;
  let api: Origin;
  let hang: Origin;
  let cut: Origin;
  const seen: Seen[] = [];
  let deadPort: number;

  before(async () => {
    app = await startOrigin((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/hop') {
          res.writeHead(200, { connection: 'x-secret', 'x-secret': 'internal', 'keep-alive': 'timeout=5', 'x-kept': 'yes' });
          res.end('hop');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'app', 'set-cookie': ['a=1', 'b=2'] });
        res.end(`app:${req.method}:${req.url}:${body.length}`);
      });
    });
    api = await startOrigin((req, res) => {
      res.writeHead(200, { 'x-origin': 'api', 'x-host': req.headers.host ?? '' });
      res.end(`api:${req.url}`);
    });
    hang = await startOrigin(() => {
      /* never answers */
    });
    cut = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 97));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    deadPort = await freePort();
    fl = await startFrontline({
      timeouts: { header: '500ms', request: '2s' },
      limits: { max_header_size: '8KiB', max_body_size: '1MiB' },
      upstreams: {
        app: { servers: [{ url: app.url }] },
        api: { servers: [{ url: api.url }] },
        hang: { servers: [{ url: hang.url }], timeouts: { first_byte: '400ms' } },
        cut: { servers: [{ url: cut.url }] },
        dead: { servers: [{ url: `http://127.0.0.1:${deadPort}` }], retries: 0 },
        upload: { servers: [{ url: app.url }], retries: 0, health: { passive: { max_fails: 1 } } },
      },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/api', upstream: 'api', strip_prefix: true },
        { host: 'rewrite.test', path: '/', upstream: 'api', host_header: 'origin.internal' },
        { path: '/hang', upstream: 'hang' },
        { path: '/cut', upstream: 'cut' },
        { path: '/dead', upstream: 'dead' },
        { host: '*.wild.test', path: '/', upstream: 'api' },
        { path: '/admin', upstream: 'api' },
        { path: '/upload-limit', upstream: 'upload' },
      ],
    });
  });

  after(async () => {
    await fl?.stop();
    await Promise.all([app, api, hang, cut].map((o) => o?.close()));
  });

  const url = (path: string) => `http://127.0.0.1:${fl.port}${path}`;

  it('forwards a request and its response, with forwarding headers and a request id', async () => {
    const res = await request(url('/hello?x=1'), { headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 't' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'app:GET:/hello?x=1:0');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.match(String(res.headers.via), /^1\.1 frontline$/);
    const id = res.headers['x-request-id'];
    assert.ok(typeof id === 'string' && id.length > 8);
    const s = seen.at(-1)!;
    assert.equal(s.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(s.headers['x-forwarded-proto'], 'http');
    assert.equal(s.headers.forwarded, `for=127.0.0.1;host="127.0.0.1:${fl.port}";proto=http`);
    assert.equal(s.headers.via, '1.1 frontline');
    assert.equal(s.headers.host, `127.0.0.1:${fl.port}`);
    assert.equal(s.headers['x-request-id'], id);
  });

  it('removes hop-by-hop headers in both directions', async () => {
    const res = await request(url('/hop'), { headers: { connection: 'keep-alive, x-private', 'x-private': '1', 'keep-alive': 'timeout=1', te: 'trailers', 'proxy-authorization': 'Basic eA==' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-secret'], undefined);
    assert.equal(res.headers['x-kept'], 'yes');
    const s = seen.at(-1)!;
    for (const h of ['x-private', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(s.headers[h], undefined, h);
  });

  it('routes by host and longest path prefix, strips prefixes and rewrites Host', async () => {
    let res = await request(url('/api/users?id=3'));
    assert.equal(res.body.toString(), 'api:/users?id=3');
    res = await request(url('/api'));
    assert.equal(res.body.toString(), 'api:/');
    res = await request(url('/apix'));
    assert.equal(res.body.toString(), 'app:GET:/apix:0');
    res = await request(url('/'), { headers: { host: 'rewrite.test' } });
    assert.equal(res.headers['x-origin'], 'api');
    assert.equal(res.headers['x-host'], 'origin.internal');
    res = await request(url('/'), { headers: { host: 'a.b.wild.test:8080' } });
    assert.equal(res.headers['x-origin'], 'api');
    res = await request(url('/'), { headers: { host: 'wild.test' } });
    assert.equal(res.headers['x-origin'], 'app');
  });

  it('streams request bodies to the origin and enforces the body limit', async () => {
    const body = 'x'.repeat(200_000);
    let res = await request(url('/upload'), { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    assert.equal(res.body.toString(), `app:POST:/upload:${body.length}`);
    const before = seen.length;
    res = await request(url('/upload'), { method: 'POST', body: 'y'.repeat(2 * 1024 * 1024) });
    assert.equal(res.status, 413);
    assert.equal(seen.length, before, 'an oversized body with Content-Length never reaches the origin');
  });

  it('answers 502 naming the upstream when the origin is unreachable, and logs it', async () => {
    const res = await request(url('/dead/x'));
    assert.equal(res.status, 502);
    assert.match(res.body.toString(), /upstream &quot;dead&quot;|upstream "dead"/);
    await waitFor(() => fl.logs.some((l) => l.upstream === 'dead' && String(l.msg).includes(`127.0.0.1:${deadPort}`)));
  });

  it('answers 504 when the origin does not send a response head in time', async () => {
    const t0 = Date.now();
    const res = await request(url('/hang'));
    assert.equal(res.status, 504);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('aborts the client connection when the origin cuts a body short', async () => {
    await assert.rejects(request(url('/cut')), /aborted|socket hang up|ECONNRESET|terminated/i);
  });

  it('rejects malformed requests with the right 4xx before the origin sees them', async () => {
    const before = seen.length;
    const both = await rawRequest(fl.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assert.match(both, /^HTTP\/1\.1 400 /);
    const badChar = await rawRequest(fl.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n');
    assert.match(badChar, /^HTTP\/1\.1 400 /);
    const badLine = await rawRequest(fl.port, 'GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(badLine, /^HTTP\/1\.1 400 /);
    const big = await rawRequest(fl.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const noHost = await rawRequest(fl.port, 'GET / HTTP/1.1\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 400 /);
    assert.equal(seen.length, before);
  });

  it('times out a client that sends its head too slowly with 408', async () => {
    const t0 = Date.now();
    const out = await rawRequest(fl.port, 'GET / HTTP/1.1\r\nHost: a\r\n', 5000);
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 4000);
  });

  it('times out a client that sends its body too slowly with 408', async () => {
    const t0 = Date.now();
    const out = await rawRequest(fl.port, 'POST /slow-body HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part', 6000);
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('logs a request whose body was too slow once, with the 408 it got', async () => {
    const unparsed = () => accessLines(fl).filter((l) => l.method === '-' && l.status === 408).length;
    const before = unparsed();
    await rawRequest(fl.port, 'POST /slow-body-logged HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part', 6000);
    const line = await waitFor(() => accessLines(fl).find((l) => l.path === '/slow-body-logged'));
    assert.equal(line.status, 408, JSON.stringify(line));
    assert.equal(line.error, 'request rejected: the request was not received in time');
    assert.equal(line.answered_by, 'frontline');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(unparsed(), before, 'no second line for the same request');
  });

  it('answers a chunked body over the limit with 413, without holding it against the origin', async () => {
    const before = fl.logs.length;
    const res = await chunkedUpload(fl.port, '/upload-limit', 3 * 1024 * 1024);
    assert.equal(res?.status, 413);
    assert.match(res.body, /larger than this server accepts/);
    await waitFor(() => fl.logs.slice(before).some((l) => String(l.msg).includes('max_body_size')));
    const after = fl.logs.slice(before).filter((l) => l.upstream === 'upload');
    assert.ok(!after.some((l) => Number(l.level) >= 50), `no error line: ${JSON.stringify(after)}`);
    assert.ok(!after.some((l) => String(l.msg).includes('ejected')), 'the origin is not ejected');
    const metrics = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
    assert.doesNotMatch(metrics, /frontline_upstream_errors_total\{[^}]*upstream="upload"/);
    const line = await waitFor(() => accessLines(fl).find((l) => l.path === '/upload-limit' && l.status === 413));
    assert.equal(line.answered_by, 'frontline');
  });

  it('does not hold an upload the client aborted against the origin', async () => {
    const before = fl.logs.length;
    assert.equal(await chunkedUpload(fl.port, '/upload-limit?aborted', 3 * 1024 * 1024, 256 * 1024), undefined);
    const line = await waitFor(() => accessLines(fl).find((l) => l.path === '/upload-limit?aborted'));
    assert.equal(line.status, 499, JSON.stringify(line));
    assert.match(String(line.error), /^client (aborted the request body|closed the connection)/);
    await new Promise((r) => setTimeout(r, 300));
    const after = fl.logs.slice(before).filter((l) => l.upstream === 'upload');
    assert.ok(!after.some((l) => Number(l.level) >= 50), `no error line: ${JSON.stringify(after)}`);
    assert.ok(!after.some((l) => String(l.msg).includes('ejected')), 'the origin is not ejected');
    const metrics = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
    assert.doesNotMatch(metrics, /frontline_upstream_errors_total\{[^}]*upstream="upload"/);
  });

  it('says in the access log who answered: the origin, or frontline for its own pages', async () => {
    const ids = await Promise.all(['/logged-origin', '/dead/answered', '/upload'].map(async (p) => {
      const res = await request(url(p), p === '/upload' ? { method: 'POST', body: 'y'.repeat(2 * 1024 * 1024) } : {});
      return String(res.headers['x-request-id']);
    }));
    const lines = await waitFor(() => {
      const all = accessLines(fl);
      const found = ids.map((id) => all.find((l) => l.request_id === id));
      return found.every(Boolean) && found;
    });
    assert.deepEqual(lines.map((l) => [l!.status, l!.answered_by]), [[200, null], [502, 'frontline'], [413, 'frontline']]);
  });

  it('matches routes on the normalised path and forwards the target as received', async () => {
    for (const target of ['//admin', '/./admin', '/a/../admin', '/%61dmin', '/admin/x/..', '/%2e%2E/admin']) {
      const out = await rawRequest(fl.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.match(out, /^HTTP\/1\.1 200 /, target);
      assert.equal(rawBody(out), `api:${target}`, target);
    }
    // Not the same path: an encoded slash stays encoded.
    const slash = await rawRequest(fl.port, 'GET /admin%2Fx HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal(rawBody(slash), 'app:GET:/admin%2Fx:0');
  });

  it('strips a prefix that matched the normalised path and keeps the rest of the target as received', async () => {
    const cases: [string, string][] = [
      ['//api/x//y?q=/a', 'api:/x//y?q=/a'],
      ['/%61pi/users?id=1', 'api:/users?id=1'],
      ['/x/../api/./y', 'api:/./y'],
      ['/api/x/../../api/y', 'api:/y'],
      ['/%61pi', 'api:/'],
      ['/api/.?q', 'api:/.?q'],
    ];
    for (const [target, expected] of cases) {
      const out = await rawRequest(fl.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.equal(rawBody(out), expected, target);
    }
  });

  it('answers a request without Host with its own 400 page, logged and counted', async () => {
    const out = await rawRequest(fl.port, 'GET /no-host HTTP/1.1\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.match(out, /no Host header/);
    const id = /x-request-id: (\S+)/i.exec(out)?.[1];
    const line = await waitFor(() => accessLines(fl).find((l) => l.request_id === id));
    assert.equal(line.status, 400);
    assert.equal(line.answered_by, 'frontline');
    // HTTP/1.0 needs no Host.
    assert.match(await rawRequest(fl.port, 'GET /old HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /);
  });

  it('logs and counts requests that could not be parsed', async () => {
    const before = accessLines(fl).filter((l) => l.method === '-').length;
    const out = await rawRequest(fl.port, 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
    const id = /x-request-id: (\S+)/i.exec(out)?.[1];
    assert.ok(id, out);
    const line = await waitFor(() => accessLines(fl).find((l) => l.request_id === id));
    assert.equal(line.method, '-');
    assert.equal(line.path, '-');
    assert.equal(line.status, 400);
    assert.equal(line.answered_by, 'frontline');
    assert.match(String(line.error), /characters that are not allowed/);
    assert.equal(accessLines(fl).filter((l) => l.method === '-').length, before + 1);
    const metrics = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
    assert.match(metrics, /frontline_client_errors_total\{status="400"\} [1-9]/);
    assert.match(metrics, /frontline_client_errors_total\{status="431"\} [1-9]/);
  });

  it('names Content-Length with Transfer-Encoding in either order', async () => {
    for (const headers of ['Content-Length: 5\r\nTransfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 5']) {
      const out = await rawRequest(fl.port, `POST / HTTP/1.1\r\nHost: a\r\n${headers}\r\n\r\n0\r\n\r\n`);
      assert.match(out, /^HTTP\/1\.1 400 /);
      assert.match(out, /400 Bad Request: the request has both Content-Length and Transfer-Encoding\n$/);
    }
    const twice = await rawRequest(fl.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n');
    assert.match(twice, /more than one Content-Length/);
  });

  it('closes a connection that never sends a byte quietly: no 408, no log line, no count', async () => {
    const timeouts = async () => {
      const text = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
      return Number(/frontline_client_errors_total\{[^}]*status="408"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const unparsed408 = () => accessLines(fl).filter((l) => l.method === '-' && l.status === 408).length;
    const counted = await timeouts();
    const before = unparsed408();
    const t0 = Date.now();
    const out = await rawRequest(fl.port, '', 4000);
    assert.equal(out, '', 'nothing is written back');
    assert.ok(Date.now() - t0 < 3000, 'it is closed at the header timeout');
    await new Promise((r) => setTimeout(r, 1200)); // the access log's flush interval
    assert.equal(unparsed408(), before);
    assert.equal(await timeouts(), counted);
  });

  it('keeps client connections alive and reuses origin connections', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    let originConnections = 0;
    const onConn = () => originConnections++;
    app.server.on('connection', onConn);
    try {
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) => {
          http
            .get(url(`/ka${i}`), { agent }, (res) => {
              ports.add(res.socket.localPort!);
              res.resume();
              res.on('end', () => resolve());
            })
            .on('error', reject);
        });
      }
    } finally {
      agent.destroy();
      app.server.off('connection', onConn);
    }
    assert.equal(ports.size, 1, 'one client connection for five requests');
    assert.ok(originConnections <= 1, `origin saw ${originConnections} new connections`);
  });

  it('writes an access log line per request and serves metrics', async () => {
    const res = await request(url('/logged'), { headers: { 'user-agent': 'log-test' } });
    const id = String(res.headers['x-request-id']);
    const line = await waitFor(() => accessLines(fl).find((l) => l.request_id === id));
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/logged');
    assert.equal(line.status, 200);
    assert.equal(line.upstream_address, app.url);
    assert.equal(line.worker, 0);
    assert.equal(typeof line.ttfb_ms, 'number');
    const metrics = await request(`http://127.0.0.1:${fl.metricsPort}/metrics`);
    const text = metrics.body.toString();
    assert.match(text, /frontline_requests_total\{[^}]*status="200"[^}]*\} \d+/);
    assert.match(text, /frontline_event_loop_blocked_seconds_bucket/);
    assert.match(text, /frontline_worker_requests_total\{[^}]*worker="0"[^}]*\} \d+/);
  });
});

describe('timeouts.request: 0', () => {
  let fl: Frontline;
  let app: Origin;

  before(async () => {
    app = await startOrigin((_req, res) => res.end('ok'));
    fl = await startFrontline({
      timeouts: { header: '500ms', request: 0 },
      upstreams: { app: { servers: [{ url: app.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
    });
  });

  after(async () => {
    await fl?.stop();
    await app?.close();
  });

  it('leaves the request unlimited but keeps the head timeout', async () => {
    const t0 = Date.now();
    const out = await rawRequest(fl.port, 'GET / HTTP/1.1\r\nHost: a\r\n', 4000);
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 2000);
  });
});
