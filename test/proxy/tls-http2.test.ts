// TLS with certificates chosen by SNI, HTTP/2 by ALPN beside HTTP/1.1, and cleartext h2c.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
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
