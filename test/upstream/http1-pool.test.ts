// The origin client against real servers: framing, keep-alive, backpressure, timeouts, failures.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Http1Pool, type RequestController } from '../../src/proxy/upstream/http1-pool.ts';
import { send } from './fixtures.ts';

const opts = { connections: 4, idleTimeoutMs: 5000, connectTimeoutMs: 1000, firstByteTimeoutMs: 1000, bodyIdleTimeoutMs: 1000 };
const closers: (() => unknown)[] = [];
after(async () => {
  // Pools first: a server's close waits for the connections they hold.
  for (const c of closers.reverse()) await c();
});

async function origin(handler: http.RequestListener): Promise<{ url: string; server: http.Server; connections: () => number }> {
  const server = http.createServer(handler);
  let count = 0;
  server.on('connection', () => count++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections: () => count };
}

/** A raw TCP origin that answers every request with `reply(requestText)`. */
async function rawOrigin(reply: (socket: net.Socket, request: string) => void): Promise<string> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end !== -1) {
        const req = buf.slice(0, end);
        buf = buf.slice(end + 4);
        reply(socket, req);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function pool(url: string, o: Partial<typeof opts> = {}): Http1Pool {
  const p = new Http1Pool(url, { ...opts, ...o });
  closers.push(() => p.destroy());
  return p;
}

describe('Http1Pool', () => {
  test('reads into one buffer of its own, reused unless the handler keeps a chunk', async () => {
    const pattern = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + (i >> 13)) % 251;
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'content-length': String(pattern.length) });
      let at = 0;
      const pump = () => {
        while (at < pattern.length) {
          const piece = pattern.subarray(at, at + 10_000);
          at += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const p = pool(o.url);
    const collect = (keep: boolean) =>
      new Promise<{ body: Buffer; reads: number; buffers: number }>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const memory = new Set<ArrayBufferLike>();
        p.dispatch({ method: 'GET', path: '/', headers: { host: 'h' }, body: null }, {
          onRequestStart() {},
          onResponseStart() {},
          onResponseData(c, chunk) {
            chunks.push(chunk); // by reference
            memory.add(chunk.buffer);
            if (keep) c.keep();
          },
          onResponseEnd: () => resolve({ body: Buffer.concat(chunks), reads: chunks.length, buffers: memory.size }),
          onResponseError: (_c, err) => reject(err),
        });
      });
    const kept = await collect(true);
    assert.ok(kept.body.equals(pattern), 'chunks kept with keep() stay intact');
    assert.equal(kept.buffers, kept.reads, 'each kept chunk has memory of its own');
    const reused = await collect(false);
    assert.ok(reused.reads > 1 && reused.buffers === 1, `one buffer for ${reused.reads} reads`);
  });

  test('sends the request head as given and reads a Content-Length response; reuses the connection', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const o = await origin((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
      res.end(`hello ${req.url}`);
    });
    const p = pool(o.url);
    for (let i = 0; i < 3; i++) {
      const r = await send(p, { path: `/x?i=${i}`, headers: { host: 'h.test', 'x-multi': ['1', '2'] } });
      assert.deepEqual(r.events, ['start', 'head', 'end']);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `hello /x?i=${i}`);
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    }
    assert.equal(seen.host, 'h.test');
    assert.equal(seen['x-multi'], '1, 2');
    assert.equal(o.connections(), 1, 'one keep-alive connection for sequential requests');
    assert.deepEqual(p.stats, { connected: 1, free: 1, pending: 0, running: 0, size: 0 });
  });

  test('reads chunked bodies (with extensions and trailers) and close-delimited bodies', async () => {
    const url = await rawOrigin((socket, req) => {
      if (req.startsWith('GET /chunked')) {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n');
        setTimeout(() => socket.write('6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'), 20);
      } else {
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
      }
    });
    const p = pool(url);
    const a = await send(p, { path: '/chunked' });
    assert.equal(a.body.toString(), 'hello world');
    assert.equal(a.headers['transfer-encoding'], undefined, 'hop-by-hop fields are not handed over');
    const b = await send(p, { path: '/close' });
    assert.deepEqual(b.events, ['start', 'head', 'end']);
    assert.equal(b.body.toString(), 'until the end');
  });

  test('knows bodyless responses: HEAD, 204, 304; skips 1xx interim responses', async () => {
    const url = await rawOrigin((socket, req) => {
      if (req.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      else if (req.includes('/204')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (req.includes('/304')) socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n');
      else socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const p = pool(url, { connections: 1 });
    assert.equal((await send(p, { method: 'HEAD' })).headers['content-length'], '1000');
    assert.equal((await send(p, { path: '/204' })).status, 204);
    assert.equal((await send(p, { path: '/304' })).status, 304);
    const r = await send(p, { path: '/hints' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok');
    assert.deepEqual(p.stats.connected, 1, 'every one of them left the connection reusable');
  });

  test('streams a request body with Content-Length, or chunked without it', async () => {
    const o = await origin((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'length'}:${n}`));
    });
    const p = pool(o.url);
    const body = () => Readable.from([Buffer.alloc(70_000, 1), Buffer.alloc(30_000, 2)]);
    let r = await send(p, { method: 'POST', headers: { host: 'h', 'content-length': '100000' }, body: body() });
    assert.equal(r.body.toString(), 'length:100000');
    r = await send(p, { method: 'POST', headers: { host: 'h' }, body: body() });
    assert.equal(r.body.toString(), 'chunked:100000');
  });

  test('never reuses a connection whose origin answered before the upload ended', async () => {
    const o = await origin((req, res) => {
      if (req.url === '/early') {
        res.writeHead(413, { connection: 'keep-alive', 'content-length': '4' });
        res.end('nope');
        return;
      }
      req.resume();
      req.on('end', () => res.end(`fine ${req.url}`));
    });
    const p = pool(o.url, { connections: 1 });
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1000, 120));
    const early = await send(p, { method: 'POST', path: '/early', headers: { host: 'h', 'content-length': '100000' }, body });
    assert.equal(early.status, 413);
    body.push(Buffer.alloc(1000, 120));
    const next = await send(p, { path: '/next' });
    assert.equal(next.status, 200);
    assert.equal(next.body.toString(), 'fine /next');
    assert.equal(o.connections(), 2);
  });

  test('pauses reading while the handler is paused (backpressure)', async () => {
    let written = 0;
    const o = await origin((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (written < 32 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const p = pool(o.url);
    let controller: RequestController | undefined;
    let received = 0;
    const done = send(p, {}, (c, chunk) => {
      received += chunk.length;
      if (controller === undefined) {
        controller = c;
        c.pause();
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(written < 16 * 1024 * 1024, `origin wrote ${written} bytes while the handler was paused`);
    controller!.resume();
    const r = await done;
    assert.equal(r.error, undefined);
    assert.equal(received, 32 * 1024 * 1024);
  });

  test('a handler that pauses on the last chunk leaves the connection usable', async () => {
    const o = await origin((req, res) => res.end(`body of ${req.url}`));
    const p = pool(o.url, { connections: 1 });
    const first = await send(p, { path: '/one' }, (c) => c.pause());
    assert.equal(first.body.toString(), 'body of /one');
    const second = await send(p, { path: '/two' });
    assert.equal(second.body.toString(), 'body of /two');
    assert.equal(o.connections(), 1);
  });

  test('fails a bodyless request on a refused connection without writing it, with the system error code', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = await send(pool(`http://127.0.0.1:${port}`));
    assert.deepEqual(r.events, ['error']);
    assert.equal((r.error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  test('times out a missing response head (first byte) and a stalled body', async () => {
    const url = await rawOrigin((socket, req) => {
      if (req.includes('/stall')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    });
    const p = pool(url, { firstByteTimeoutMs: 200, bodyIdleTimeoutMs: 200 });
    const t0 = Date.now();
    const a = await send(p, { path: '/hang' });
    assert.equal((a.error as NodeJS.ErrnoException).code, 'FL_FIRST_BYTE_TIMEOUT');
    assert.ok(Date.now() - t0 >= 200 && Date.now() - t0 < 1000);
    const b = await send(p, { path: '/stall' });
    assert.deepEqual(b.events, ['start', 'head', 'error']);
    assert.equal((b.error as NodeJS.ErrnoException).code, 'FL_BODY_TIMEOUT');
    assert.equal(b.body.toString(), 'abc');
  });

  test('reports a body cut short and a malformed response as errors', async () => {
    const url = await rawOrigin((socket, req) => {
      if (req.includes('/short')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
      else if (req.includes('/garbage')) socket.end('SMTP ready\r\n\r\n');
      else if (req.includes('/twolengths')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
      else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n Folded: x\r\n\r\nab');
    });
    const p = pool(url);
    const short = await send(p, { path: '/short' });
    assert.deepEqual(short.events, ['start', 'head', 'error']);
    assert.equal((short.error as NodeJS.ErrnoException).code, 'FL_CLOSED_EARLY');
    for (const path of ['/garbage', '/twolengths', '/folded']) {
      const r = await send(p, { path });
      assert.deepEqual(r.events, ['start', 'error'], path);
      assert.equal((r.error as NodeJS.ErrnoException).code, 'FL_BAD_RESPONSE', path);
    }
  });

  test('refuses header values that would split the request', async () => {
    const o = await origin((_req, res) => res.end('no'));
    const r = await send(pool(o.url), { headers: { host: 'h', 'x-evil': 'a\r\nx-injected: 1' } });
    assert.deepEqual(r.events, ['error']);
    assert.equal((r.error as NodeJS.ErrnoException).code, 'FL_BAD_HEADER');
  });

  test('retries a bodyless request once when a reused connection turns out closed', async () => {
    let n = 0;
    const url = await rawOrigin((socket) => {
      n++;
      // Answer, then close without saying so: the pool keeps the connection and reuses it.
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => socket.destroy(), 20);
    });
    const p = pool(url, { connections: 1 });
    assert.equal((await send(p)).body.toString(), 'ok');
    await new Promise((r) => setTimeout(r, 60));
    const r = await send(p);
    assert.equal(r.error, undefined);
    assert.equal(r.body.toString(), 'ok');
    assert.equal(n, 2);
  });

  test('queues requests beyond the connection limit and serves them in order', async () => {
    const o = await origin((req, res) => setTimeout(() => res.end(req.url), 30));
    const p = pool(o.url, { connections: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => send(p, { path: `/${i}` })));
    assert.deepEqual(results.map((r) => r.body.toString()), ['/0', '/1', '/2', '/3', '/4', '/5']);
    assert.equal(o.connections(), 2);
  });

  test('abort fails the request once and frees the pool; close waits for running requests', async () => {
    const o = await origin((req, res) => setTimeout(() => res.end('late'), req.url === '/slow' ? 300 : 0));
    const p = pool(o.url, { connections: 1 });
    const aborted = new Promise<string[]>((resolve) => {
      const events: string[] = [];
      p.dispatch({ method: 'GET', path: '/slow', headers: { host: 'h' }, body: null }, {
        onRequestStart: (c) => {
          events.push('start');
          setTimeout(() => c.abort(new Error('client went away')), 20);
        },
        onResponseStart: () => events.push('head'),
        onResponseData: () => events.push('data'),
        onResponseEnd: () => events.push('end'),
        onResponseError: (_c, err) => {
          events.push(`error:${err.message}`);
          setTimeout(() => resolve(events), 50);
        },
      });
    });
    assert.deepEqual(await aborted, ['start', 'error:client went away']);
    const r = await send(p, { path: '/next' });
    assert.equal(r.body.toString(), 'late');
    const running = send(p, { path: '/slow' });
    const closed = p.close();
    assert.equal((await running).body.toString(), 'late');
    await closed;
    assert.equal(p.stats.connected, 0);
  });
});
