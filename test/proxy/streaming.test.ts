// Bodies stream both ways with backpressure: a slow client holds the origin back instead of
// frontline buffering the response, and an upload reaches the origin before it is complete.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

const CHUNK = Buffer.alloc(64 * 1024, 120);
/** Bytes that differ from one position to the next, so that a reused buffer would show. */
const PATTERN = Buffer.alloc(24 * 1024 * 1024);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = (i * 7 + (i >> 13)) % 251;
const TOTAL = 64 * 1024 * 1024;

describe('streaming with backpressure', () => {
  let fl: Frontline;
  let origin: Origin;
  let written = 0;
  let uploadFirstChunkAt = 0;

  before(async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/pattern') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(PATTERN.length) });
        let at = 0;
        const pump = () => {
          while (at < PATTERN.length) {
            const piece = PATTERN.subarray(at, at + 10_000);
            at += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url === '/big') {
        written = 0;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
        const pump = () => {
          while (written < TOTAL) {
            written += CHUNK.length;
            if (!res.write(CHUNK)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      let size = 0;
      req.on('data', (c: Buffer) => {
        if (size === 0) uploadFirstChunkAt = Date.now();
        size += c.length;
      });
      req.on('end', () => res.end(String(size)));
    });
    fl = await startFrontline({ upstreams: { app: { servers: [{ url: origin.url }] } }, routes: [{ upstream: 'app' }] });
  });

  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  it('does not buffer a large response for a client that stops reading', async () => {
    const { res, req } = await new Promise<{ res: http.IncomingMessage; req: http.ClientRequest }>((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${fl.port}/big`, { agent: false }, (res) => resolve({ res, req }));
      req.on('error', reject);
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 1000));
    const whilePaused = written;
    // Socket buffers on both sides plus a few chunks in flight: far less than the 64 MiB body.
    assert.ok(whilePaused < 24 * 1024 * 1024, `origin wrote ${whilePaused} bytes while the client read nothing`);
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    await new Promise<void>((resolve, reject) => {
      res.on('end', () => resolve());
      res.on('error', reject);
      res.resume();
    });
    req.destroy();
    assert.equal(received, TOTAL, 'every byte arrives once the client reads');
  });

  it('delivers every byte intact to a client that reads in fits and starts', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${fl.port}/pattern`, { agent: false }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            parts.push(c);
            // Stop long enough for the socket buffers to fill, so that frontline's writes are
            // queued (less than a high-water mark at a time) while the origin keeps sending.
            if (parts.length === 1 || parts.length === 300) {
              res.pause();
              setTimeout(() => res.resume(), 600);
            }
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(body.length, PATTERN.length);
    assert.ok(body.equals(PATTERN), 'the body is byte for byte what the origin sent');
  });

  it('streams an upload to the origin before the client has finished sending', async () => {
    const req = http.request(`http://127.0.0.1:${fl.port}/upload`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
    const response = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
    });
    uploadFirstChunkAt = 0;
    req.write(CHUNK);
    await new Promise((r) => setTimeout(r, 500));
    const sentLastAt = Date.now();
    assert.ok(uploadFirstChunkAt > 0, 'the origin got the first chunk while the upload was still open');
    for (let i = 0; i < 15; i++) req.write(CHUNK);
    req.end();
    assert.equal(await response, String(16 * CHUNK.length));
    assert.ok(uploadFirstChunkAt < sentLastAt);
  });
});
