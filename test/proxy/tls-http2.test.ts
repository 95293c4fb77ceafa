// TLS with certificates chosen by SNI, HTTP/2 by ALPN beside HTTP/1.1, and cleartext h2c.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { freePort, ROOT, startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

const TLS_DIR = join(ROOT, 'test/fixtures/tls');
const ca = [readFileSync(join(TLS_DIR, 'a.test.crt')), readFileSync(join(TLS_DIR, 'b.test.crt'))];

describe('TLS and HTTP/2 listeners', () => {
  let fl: Frontline;
  let origin: Origin;
  let tlsPort: number;
  let h2Port: number;
  let h2cPort: number;
  let lastProto = '';

  before(async () => {
    origin = await startOrigin((req, res) => {
      lastProto = String(req.headers['x-forwarded-proto']);
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive' });
        res.end(`${req.method} ${req.url} ${size} via=${req.headers.via}`);
      });
    });
    [tlsPort, h2Port, h2cPort] = [await freePort(), await freePort(), await freePort()];
    const certificates = [
      { server_names: ['a.test', '*.a.test'], cert: join(TLS_DIR, 'a.test.crt'), key: join(TLS_DIR, 'a.test.key') },
      { server_names: ['b.test', '*.b.test'], cert: join(TLS_DIR, 'b.test.crt'), key: join(TLS_DIR, 'b.test.key') },
    ];
    fl = await startFrontline({
      listeners: [
        { address: '127.0.0.1', port: tlsPort, tls: { certificates } },
        { address: '127.0.0.1', port: h2Port, tls: { certificates }, http2: true },
        { address: '127.0.0.1', port: h2cPort, http2: true },
      ],
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ upstream: 'app' }],
    });
  });

  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  const httpsGet = (port: number, servername: string) =>
    new Promise<{ cn: string; body: string; alpn: string | false | null }>((resolve, reject) => {
      const options: https.RequestOptions & { ALPNProtocols: string[] } = {
        host: '127.0.0.1',
        port,
        path: '/x',
        servername,
        ca,
        agent: false,
        ALPNProtocols: ['http/1.1'],
        headers: { host: servername },
      };
      https
        .get(options, (res) => {
          const socket = res.socket as TLSSocket;
          const cn = String(socket.getPeerCertificate().subject.CN);
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ cn, body, alpn: socket.alpnProtocol }));
        })
        .on('error', reject);
    });

  it('serves the certificate that matches the SNI name, exact or wildcard, else the first', async () => {
    assert.equal((await httpsGet(tlsPort, 'a.test')).cn, 'a.test');
    assert.equal((await httpsGet(tlsPort, 'b.test')).cn, 'b.test');
    assert.equal((await httpsGet(tlsPort, 'www.b.test')).cn, 'b.test');
    const res = await httpsGet(tlsPort, 'a.test');
    assert.equal(res.body, 'GET /x 0 via=1.1 frontline');
    assert.equal(lastProto, 'https');
  });

  const h2Request = (url: string, opts: http2.SecureClientSessionOptions, path: string, body?: string) =>
    new Promise<{ status: number; body: string; via: string }>((resolve, reject) => {
      const session = http2.connect(url, opts);
      session.on('error', reject);
      const req = session.request({ ':method': body ? 'POST' : 'GET', ':path': path, ':authority': 'a.test' }, { endStream: !body });
      let status = 0;
      let via = '';
      let out = '';
      req.on('response', (h) => {
        status = Number(h[':status']);
        via = String(h.via);
      });
      req.on('data', (c) => (out += c));
      req.on('end', () => {
        session.close();
        resolve({ status, body: out, via });
      });
      req.on('error', reject);
      if (body) req.end(body);
    });

  it('speaks HTTP/2 negotiated by ALPN, and still HTTP/1.1 on the same listener', async () => {
    const res = await h2Request(`https://127.0.0.1:${h2Port}`, { ca, servername: 'a.test' }, '/h2?q=1');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /h2?q=1 0 via=2 frontline');
    assert.equal(res.via, '2 frontline');
    const posted = await h2Request(`https://127.0.0.1:${h2Port}`, { ca, servername: 'a.test' }, '/up', 'z'.repeat(100_000));
    assert.equal(posted.body, 'POST /up 100000 via=2 frontline');
    const h1 = await httpsGet(h2Port, 'a.test');
    assert.equal(h1.alpn, 'http/1.1');
    assert.equal(h1.body, 'GET /x 0 via=1.1 frontline');
  });

  it('speaks cleartext h2c with prior knowledge', async () => {
    const res = await h2Request(`http://127.0.0.1:${h2cPort}`, {}, '/clear');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /clear 0 via=2 frontline');
    assert.equal(lastProto, 'http');
  });
});

/** Sends raw bytes over TLS (ALPN http/1.1) and returns what came back until the server closed (or the timeout). */
function rawTls(port: number, data: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', ca, ALPNProtocols: ['http/1.1'] }, () => socket.write(data));
    let out = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on('error', (err) => (out ? undefined : reject(err)));
  });
}

describe('limits and timeouts on TLS and HTTP/2 listeners', () => {
  let fl: Frontline;
  let origin: Origin;
  let tlsPort: number;
  let h2Port: number;
  let h2cPort: number;

  before(async () => {
    origin = await startOrigin((_req, res) => res.end('ok'));
    [tlsPort, h2Port, h2cPort] = [await freePort(), await freePort(), await freePort()];
    const certificates = [{ server_names: ['a.test'], cert: join(TLS_DIR, 'a.test.crt'), key: join(TLS_DIR, 'a.test.key') }];
    fl = await startFrontline({
      listeners: [
        { address: '127.0.0.1', port: tlsPort, tls: { certificates } },
        { address: '127.0.0.1', port: h2Port, tls: { certificates }, http2: true },
        { address: '127.0.0.1', port: h2cPort, http2: true },
      ],
      limits: { max_header_size: '8KiB', max_requests_per_connection: 2 },
      timeouts: { header: '500ms', request: '2s', keepalive: '1s' },
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ upstream: 'app' }],
    });
  });

  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  for (const [name, port] of [['TLS', () => tlsPort], ['TLS with http2 (HTTP/1.1 by ALPN)', () => h2Port]] as const) {
    it(`${name}: frontline's 400, 431 and 408 with a reason`, async () => {
      const bad = await rawTls(port(), 'GET / HTTP/1.1\r\nHost: a.test\r\nBad Name: x\r\n\r\n');
      assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\n400 Bad Request: a header name or value holds characters that are not allowed\n$/);
      const big = await rawTls(port(), `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 [^]*the request head is larger than this server accepts\n$/);
      const t0 = Date.now();
      const slow = await rawTls(port(), 'GET / HTTP/1.1\r\nHost: a.test\r\n', 4000);
      assert.match(slow, /^HTTP\/1\.1 408 [^]*the request was not received in time\n$/);
      assert.ok(Date.now() - t0 < 2500);
    });

    it(`${name}: closes a connection after max_requests_per_connection`, async () => {
      const t0 = Date.now();
      const out = await rawTls(port(), 'GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n');
      const heads = out.split('HTTP/1.1 ').slice(1);
      assert.equal(heads.length, 2, out);
      assert.match(heads[0], /Connection: keep-alive/i);
      assert.match(heads[1], /Connection: close/i);
      assert.ok(Date.now() - t0 < 900, 'closed after the last response, not at a timeout');
    });
  }

  // Node's client refuses to send a header list larger than the server's setting; raise its own
  // limit so that the request is sent, as a client that ignores the setting would.
  const h2Session = (port: number, secure: boolean) =>
    http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, {
      maxSendHeaderBlockLength: 1 << 20,
      ...(secure ? { ca, servername: 'a.test' } : {}),
    });

  const h2Status = (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders) =>
    new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': '/', ':authority': 'a.test', ...headers });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('end', () => resolve(status));
      req.on('error', reject);
      req.resume();
    });

  for (const [name, port, secure] of [['h2', () => h2Port, true], ['h2c', () => h2cPort, false]] as const) {
    it(`${name}: answers a header list over max_header_size with 431`, async () => {
      // Sent at once, before the client has acknowledged the server's SETTINGS: from then on, Node
      // itself resets such a stream (ENHANCE_YOUR_CALM).
      const session = h2Session(port(), secure);
      try {
        assert.equal(await h2Status(session, { 'x-big': 'a'.repeat(10_000) }), 431);
        assert.equal(await h2Status(session, { 'x-small': 'a' }), 200);
      } finally {
        session.close();
      }
    });

    it(`${name}: sends GOAWAY to a session idle for timeouts.keepalive`, async () => {
      const session = h2Session(port(), secure);
      const t0 = Date.now();
      const goaway = new Promise<number>((resolve) => session.once('goaway', () => resolve(Date.now() - t0)));
      assert.equal(await h2Status(session, {}), 200);
      const after = await Promise.race([goaway, new Promise<number>((r) => setTimeout(() => r(-1), 4000))]);
      session.destroy();
      assert.ok(after >= 900 && after < 3000, `GOAWAY after ${after} ms`);
    });
  }
});
