// The body phase's plumbing, with a stand-in rewriter (fixtures/uppercase-rewrite-plugin.ts) so
// that only the plumbing is under test: which responses are rewritten, content codings from every
// origin coding to every client coding, the head (Content-Length, Vary, ETag), backpressure with
// a slow reader, and what a failed rewrite does before and after its output began.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { decodableAcceptEncoding, negotiateCoding, responseCoding } from '../../src/features/html-rewriting/content-coding.ts';
import { RewritingBody } from '../../src/features/html-rewriting/rewriting-body.ts';
import { startFrontline, startOrigin, waitFor, type Frontline, type Origin } from '../helpers/servers.ts';
import { decodeBody, ENCODERS, fetchDecoded, rssBytes, workerPid, writeInPieces } from './html-helpers.ts';

const PLUGIN = join(import.meta.dirname, 'fixtures/uppercase-rewrite-plugin.ts');
const PAGE = Buffer.from('<!DOCTYPE html><html><head><title>Page</title></head><body><p>Hello, world: ümlaut</p></body></html>\n'.repeat(40));
const upper = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/[a-z]+/g, (s) => s.toUpperCase()), 'latin1');

describe('content codings', () => {
  it('picks the client coding by q-value, the origin coding on a tie, identity when nothing fits', () => {
    assert.equal(negotiateCoding(undefined, 'gzip'), undefined);
    assert.equal(negotiateCoding('gzip, deflate, br', undefined), 'br');
    assert.equal(negotiateCoding('gzip, deflate, br', 'gzip'), 'gzip');
    assert.equal(negotiateCoding('gzip;q=0.5, br;q=0.8', 'gzip'), 'br');
    assert.equal(negotiateCoding('br;q=0, gzip', 'br'), 'gzip');
    assert.equal(negotiateCoding('*;q=0.3, gzip;q=0', undefined), 'br');
    assert.equal(negotiateCoding('identity, gzip;q=0.5', 'gzip'), undefined);
    assert.equal(negotiateCoding('compress, identity;q=0.5', undefined), undefined);
    assert.equal(negotiateCoding('', 'gzip'), undefined);
    assert.equal(negotiateCoding('X-GZIP', undefined), 'gzip');
    assert.equal(negotiateCoding('zstd;q=1.0, br;q=0.9', undefined), 'zstd');
  });

  it('names the origin coding, and refuses stacked or unknown ones', () => {
    assert.equal(responseCoding(undefined), undefined);
    assert.equal(responseCoding('identity'), undefined);
    assert.equal(responseCoding('GZIP'), 'gzip');
    assert.equal(responseCoding('x-gzip'), 'gzip');
    assert.equal(responseCoding('gzip, br'), null);
    assert.equal(responseCoding('compress'), null);
    assert.equal(responseCoding('dcb'), null);
  });

  it('asks the origin only for codings frontline can undo', () => {
    assert.equal(decodableAcceptEncoding('gzip, deflate, br, zstd, dcb, dcz'), 'gzip, deflate, br, zstd');
    assert.equal(decodableAcceptEncoding('compress;q=0.9, gzip;q=0.5'), 'gzip;q=0.5');
    assert.equal(decodableAcceptEncoding('compress'), 'identity');
    assert.equal(decodableAcceptEncoding(undefined), undefined);
  });
});

describe('the body phase through a running frontline', () => {
  let origin: Origin;
  let fl: Frontline;
  let written = 0;
  // Text that compresses poorly (random base64), in pieces longer than a gzip window, so that
  // the client's coding does not shrink the page below what socket buffers hold.
  const BIG_PIECE_LIST = Array.from({ length: 16 }, () => Buffer.from(`<p>${randomBytes(42_000).toString('base64')}</p>\n`));
  const BIG_PIECES = 720; // ~40 MB: far more than frontline could hold without it showing
  const BIG_TOTAL = BIG_PIECES * BIG_PIECE_LIST[0].length;
  let bigHash = '';

  before(async () => {
    const hash = createHash('sha256');
    const upperPieces = BIG_PIECE_LIST.map(upper);
    for (let i = 0; i < BIG_PIECES; i++) hash.update(upperPieces[i % upperPieces.length]);
    bigHash = hash.digest('hex');
    origin = await startOrigin(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://origin');
      const coding = url.searchParams.get('coding') ?? '';
      const type = url.searchParams.get('type') ?? 'text/html; charset=utf-8';
      const headers: http.OutgoingHttpHeaders = { 'content-type': type, etag: '"v1"', 'accept-ranges': 'bytes', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' };
      if (url.pathname === '/page') {
        const body = coding === '' ? PAGE : ENCODERS[coding](PAGE);
        if (coding !== '') headers['content-encoding'] = coding;
        headers['content-length'] = body.length;
        if (url.searchParams.has('vary')) headers.vary = 'Cookie';
        if (url.searchParams.has('no-transform')) headers['cache-control'] = 'public, no-transform';
        res.writeHead(200, headers);
        // Pieces of 1, 2, 3 … bytes at the start: every boundary a decoder can meet.
        if (url.searchParams.has('pieces')) await writeInPieces(res, body, [1, 3, 6, 10, 15, 21, 28]);
        else res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (url.pathname === '/not-modified') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return;
      }
      if (url.pathname === '/fail-first') {
        res.writeHead(200, headers);
        res.end(Buffer.concat([Buffer.from('<p>bell \x07 ringing</p>'), PAGE]));
        return;
      }
      if (url.pathname === '/fail-later') {
        res.writeHead(200, headers);
        res.write(PAGE);
        await new Promise((r) => setTimeout(r, 50));
        res.end('<p>bell \x07 ringing</p>');
        return;
      }
      if (url.pathname === '/big') {
        written = 0;
        res.writeHead(200, { 'content-type': 'text/html' });
        let sent = 0;
        const pump = () => {
          while (sent < BIG_PIECES) {
            const piece = BIG_PIECE_LIST[sent++ % BIG_PIECE_LIST.length];
            written += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(404);
      res.end();
    });
    fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/plain/', upstream: 'app', strip_prefix: true, plugins: { [PLUGIN]: false } },
      ],
      plugins: [{ module: PLUGIN }],
      logging: { level: 'info' },
    });
  });
  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  const codings = ['', 'gzip', 'deflate', 'br', 'zstd'];
  for (const originCoding of codings) {
    it(`rewrites an origin body in ${originCoding || 'identity'} for clients accepting each coding or none`, async () => {
      for (const accept of [...codings, 'compress']) {
        const res = await fetchDecoded(fl.port, `/page?coding=${originCoding}`, accept === '' ? {} : { 'accept-encoding': accept });
        const expected = accept === '' || accept === 'compress' ? undefined : accept;
        assert.equal(res.headers['content-encoding'], expected, `origin ${originCoding}, client ${accept}`);
        assert.deepEqual(res.body, upper(PAGE), `origin ${originCoding}, client ${accept}`);
        assert.equal(res.headers['content-length'], undefined);
        assert.equal(res.headers.vary, 'Accept-Encoding');
        assert.equal(res.headers.etag, 'W/"v1"');
        assert.equal(res.headers['accept-ranges'], undefined);
        assert.equal(res.headers['last-modified'], 'Mon, 01 Jan 2024 00:00:00 GMT');
      }
    });
  }

  it('decodes an origin body that arrives a few bytes at a time', async () => {
    for (const coding of codings) {
      const res = await fetchDecoded(fl.port, `/page?pieces&coding=${coding}`, { 'accept-encoding': 'gzip' });
      assert.deepEqual(res.body, upper(PAGE), coding);
    }
  });

  it('adds Accept-Encoding to an existing Vary', async () => {
    const res = await fetchDecoded(fl.port, '/page?vary', { 'accept-encoding': 'br' });
    assert.equal(res.headers.vary, 'Cookie, Accept-Encoding');
  });

  it('leaves non-HTML, no-transform and HEAD bodies alone, and gives HEAD the head its GET gets', async () => {
    const json = await fetchDecoded(fl.port, '/page?type=application/json&coding=gzip', { 'accept-encoding': 'br' });
    assert.equal(json.headers['content-encoding'], 'gzip');
    assert.equal(json.headers.etag, '"v1"');
    assert.deepEqual(json.body, PAGE);
    const kept = await fetchDecoded(fl.port, '/page?no-transform&coding=gzip', { 'accept-encoding': 'br' });
    assert.equal(kept.headers['content-encoding'], 'gzip');
    assert.deepEqual(kept.body, PAGE);
    const off = await fetchDecoded(fl.port, '/plain/page?coding=gzip', { 'accept-encoding': 'br' });
    assert.deepEqual(off.body, PAGE, 'the route that switches the plugin off');
    const head = await fetchDecoded(fl.port, '/page?coding=gzip', { 'accept-encoding': 'br' }, 'HEAD');
    assert.equal(head.raw.length, 0);
    assert.equal(head.headers['content-encoding'], 'br');
    assert.equal(head.headers['content-length'], undefined);
    assert.equal(head.headers.etag, 'W/"v1"');
    assert.equal(head.headers.vary, 'Accept-Encoding');
  });

  it('weakens the ETag of a 304 so that it refreshes the rewritten copy', async () => {
    const res = await fetchDecoded(fl.port, '/not-modified', { 'if-none-match': 'W/"v1"' });
    assert.equal(res.status, 304);
    assert.equal(res.headers.etag, 'W/"v1"');
    assert.equal(res.raw.length, 0);
  });

  it('sends the original body when the rewrite fails before any output, and logs it', async () => {
    for (const accept of ['', 'gzip']) {
      const res = await fetchDecoded(fl.port, '/fail-first', accept === '' ? {} : { 'accept-encoding': accept });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, Buffer.concat([Buffer.from('<p>bell \x07 ringing</p>'), PAGE]));
    }
    await waitFor(() => fl.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('rewriting failed before any output')));
  });

  it('aborts the client connection when the rewrite fails after its output began', async () => {
    for (const accept of ['', 'gzip']) {
      await assert.rejects(fetchDecoded(fl.port, '/fail-later', accept === '' ? {} : { 'accept-encoding': accept }), /cut off|aborted|ECONNRESET|socket hang up/);
    }
    await waitFor(() => fl.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('HTML rewriting failed after output began')));
  });

  it('gives a slow reader every byte of a large rewritten page, holding the origin back', async () => {
    const worker = workerPid(fl.pid);
    const rssBefore = rssBytes(worker);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: fl.port, path: '/big', agent: false, headers: { 'accept-encoding': 'gzip' } }, resolve);
      req.on('error', reject);
    });
    res.pause();
    // A client that reads nothing for a while: the origin must be held back, not buffered.
    await new Promise((r) => setTimeout(r, 1000));
    const writtenWhileStalled = written;
    const rssGrowth = rssBytes(worker) - rssBefore;
    // Socket buffers on both connections (several MiB each on loopback) hold part of it; frontline must hold no more.
    assert.ok(writtenWhileStalled < 24 * 1024 * 1024, `origin wrote ${writtenWhileStalled} of ${BIG_TOTAL} bytes while the client read nothing`);
    // Then reads in small sips with pauses.
    const hash = createHash('sha256');
    const gunzip = zlib.createGunzip();
    gunzip.on('data', (c: Buffer) => hash.update(c));
    const ended = new Promise<void>((resolve, reject) => {
      gunzip.on('end', resolve);
      gunzip.on('error', reject);
      res.on('error', reject);
    });
    let sips = 0;
    res.on('data', (c: Buffer) => {
      gunzip.write(c);
      if (++sips % 16 === 0) {
        res.pause();
        setTimeout(() => res.resume(), 2);
      }
    });
    res.on('end', () => gunzip.end());
    res.resume();
    await ended;
    assert.equal(hash.digest('hex'), bigHash, 'every byte, rewritten');
    process.stderr.write(`# slow reader: ${(BIG_TOTAL / 1048576).toFixed(0)} MiB page; while the client stalled the origin wrote ${(writtenWhileStalled / 1048576).toFixed(1)} MiB (socket buffers) and the worker's RSS (uncollected garbage included) grew ${(rssGrowth / 1048576).toFixed(1)} MiB\n`);
  });
});

describe('memory of one rewritten body', () => {
  it('stays bounded for a slow consumer of a large body, whatever the codings', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const pieces = Array.from({ length: 16 }, () => Buffer.from(`<p>${randomBytes(42_000).toString('base64')}</p>\n`));
    const count = 240;
    const total = count * pieces[0].length;
    for (const [decode, encode] of [[undefined, undefined], ['gzip', 'br']] as const) {
      let n = 0;
      const source = new Readable({
        read() {
          if (n === count) this.push(null);
          else this.push(decode === undefined ? pieces[n++ % 16] : zlib.gzipSync(pieces[n++ % 16]));
        },
      });
      const body = new RewritingBody({ createStage: (sink) => ({ write: (c) => sink(upper(Buffer.from(c))), end() {} }), decode, encode, holdLimit: 65536, onFallback() {} });
      let received = 0;
      // Takes a chunk now and then: everything upstream of it must wait.
      const slow = new Writable({ write: (c: Buffer, _e, done) => ((received += c.length), received % 8 === 0 ? setTimeout(done, 1) : setImmediate(done)) });
      gc();
      const live = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const before = live();
      let peak = before;
      const sample = setInterval(() => {
        gc();
        peak = Math.max(peak, live());
      }, 100);
      await pipeline(source, body, slow);
      clearInterval(sample);
      assert.ok(received > 0);
      const growth = peak - before;
      assert.ok(growth < 8 * 1024 * 1024, `live memory grew by ${growth} bytes for a ${total}-byte body (${decode} → ${encode})`);
      process.stderr.write(`# ${(total / 1048576).toFixed(0)} MiB body ${decode ?? 'identity'} → ${encode ?? 'identity'}, slow consumer: live memory (heap + buffers) peaked ${(growth / 1048576).toFixed(2)} MiB above the start\n`);
    }
  });
});

describe('asynchronous rewrites', () => {
  let origin: Origin;
  let fl: Frontline;
  before(async () => {
    origin = await startOrigin((req, res) => {
      const coding = new URL(req.url ?? '/', 'http://o').searchParams.get('coding') ?? '';
      res.writeHead(200, { 'content-type': 'text/html', ...(coding ? { 'content-encoding': coding } : {}) });
      res.end(coding ? ENCODERS[coding](PAGE) : PAGE);
    });
    fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
      plugins: [{ module: PLUGIN, options: { async: true } }],
    });
  });
  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  it('waits for a rewriter that answers writes with promises', async () => {
    for (const [coding, accept] of [['', ''], ['br', 'gzip'], ['gzip', 'zstd']]) {
      const res = await fetchDecoded(fl.port, `/?coding=${coding}`, accept ? { 'accept-encoding': accept } : {});
      assert.deepEqual(decodeBody(res.raw, res.headers['content-encoding']), upper(PAGE));
    }
  });
});
