// Plugins from the outside: a TypeScript module named in the config implements hooks for each
// phase; a route can switch it off or give it other options.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { accessLines, request, ROOT, startFrontline, startOrigin, waitFor, type Frontline, type Origin } from '../helpers/servers.ts';

const PLUGIN = `
import { Transform } from 'node:stream';
import { appendFileSync } from 'node:fs';
import { ContextKey } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/proxy/context.ts')).href)};

const seenAt = new ContextKey('seenAt');

export default function create(options) {
  return {
    name: 'test-plugin',
    request(ctx) {
      ctx.set(seenAt, options.tag);
      ctx.upstreamHeaders['x-from-request'] = 'request';
    },
    async access(ctx) {
      await new Promise((r) => setTimeout(r, 5));
      ctx.upstreamHeaders['x-from-access'] = 'access';
      if (ctx.path.startsWith('/blocked')) {
        ctx.answeredBy = 'test-plugin';
        return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'blocked by ' + options.tag };
      }
      if (ctx.path === '/teapot') return { status: 418 };
    },
    upstream(ctx) {
      ctx.upstreamHeaders['x-plugin-tag'] = ctx.get(seenAt);
    },
    responseHeaders(ctx, head) {
      head.headers['x-plugin'] = options.tag;
      if (ctx.path === '/status-rewrite') head.status = 202;
      if (ctx.path === '/head-hook-throws') throw new Error('head hook failed');
    },
    responseBody(ctx, head) {
      if (ctx.path === '/transform-fails') {
        return new Transform({ transform(_chunk, _enc, done) { done(new Error('transform failed')); } });
      }
      if (!String(head.headers['content-type'] ?? '').startsWith('text/plain')) return undefined;
      return new Transform({ transform(chunk, _enc, done) { done(null, chunk.toString().toUpperCase()); } });
    },
    log(ctx) {
      appendFileSync(options.logFile, ctx.id + ' ' + ctx.status + ' ' + ctx.get(seenAt) + '\\n');
      if (ctx.path === '/log-rejects') return Promise.reject(new Error('log hook rejected'));
    },
  };
}
`;

describe('plugins', () => {
  let fl: Frontline;
  let origin: Origin;
  let dir: string;
  let logFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frontline-plugin-'));
    logFile = join(dir, 'plugin.log');
    writeFileSync(join(dir, 'test-plugin.mjs'), PLUGIN);
    origin = await startOrigin((req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': '5',
        'x-tag-seen': String(req.headers['x-plugin-tag']),
        'x-phases-seen': `${req.headers['x-from-request']},${req.headers['x-from-access']}`,
      });
      res.end('hello');
    });
    const module = join(dir, 'test-plugin.mjs');
    fl = await startFrontline({
      plugins: [{ module, options: { tag: 'global', logFile } }],
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/off', upstream: 'app', plugins: { [module]: false } },
        { path: '/other', upstream: 'app', plugins: { [module]: { tag: 'route' } } },
      ],
    });
  });

  after(async () => {
    await fl?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (p: string) => `http://127.0.0.1:${fl.port}${p}`;

  it('runs every phase: upstream headers, response headers, body transform, log', async () => {
    const res = await request(url('/page'));
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'HELLO');
    assert.equal(res.headers['x-plugin'], 'global');
    assert.equal(res.headers['x-tag-seen'], 'global');
    assert.equal(res.headers['content-length'], undefined, 'a transformed body has no stale Content-Length');
    const id = String(res.headers['x-request-id']);
    await waitForLine(logFile, `${id} 200 global`);
  });

  it('lets an access hook answer the request without reaching the origin', async () => {
    let hits = 0;
    const count = () => hits++;
    origin.server.on('request', count);
    const res = await request(url('/blocked/x'));
    origin.server.off('request', count);
    assert.equal(res.status, 403);
    assert.equal(res.body.toString(), 'blocked by global');
    assert.equal(res.headers['x-plugin'], 'global', 'response-header hooks see replies too');
    assert.equal(hits, 0);
  });

  it('keeps changes to the upstream headers made in the request and access phases', async () => {
    const res = await request(url('/page'));
    assert.equal(res.headers['x-phases-seen'], 'request,access');
    assert.equal(res.headers['x-tag-seen'], 'global');
  });

  it('gives hooks the normalised path', async () => {
    for (const p of ['//blocked/x', '/./blocked', '/x/../blocked', '/%62locked']) {
      const res = await request(url(p));
      assert.equal(res.status, 403, p);
    }
  });

  it('logs a reply that does not name its plugin as answered by "plugin"', async () => {
    const res = await request(url('/teapot'));
    assert.equal(res.status, 418);
    const id = String(res.headers['x-request-id']);
    const line = await waitFor(() => accessLines(fl).find((l) => l.request_id === id));
    assert.equal(line.answered_by, 'plugin');
  });

  it('survives a log hook whose promise rejects, and logs it', async () => {
    const res = await request(url('/log-rejects'));
    assert.equal(res.status, 200);
    await waitFor(() => fl.logs.find((l) => String(l.msg) === 'a log hook failed: log hook rejected'));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!fl.logs.some((l) => Number(l.level) >= 60 || String(l.msg).includes('respawning')), fl.stderr());
    assert.equal((await request(url('/page'))).status, 200);
  });

  it('answers 500 when a response hook fails, aborts when a body transform fails, and never blames the origin', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await request(url('/head-hook-throws'));
      assert.equal(res.status, 500);
      await assert.rejects(request(url('/transform-fails')), /aborted|socket hang up|ECONNRESET/i);
    }
    assert.ok(fl.logs.some((l) => String(l.msg).includes('head hook failed')));
    assert.ok(fl.logs.some((l) => String(l.msg).includes('transform failed')));
    const ejections = fl.logs.filter((l) => / ejected \(/.test(String(l.msg)));
    assert.deepEqual(ejections, [], 'eight plugin failures do not eject the origin');
    assert.equal((await request(url('/page'))).status, 200);
  });

  it('lets a response-headers hook change the status', async () => {
    const res = await request(url('/status-rewrite'));
    assert.equal(res.status, 202);
  });

  it('honours per-route off switches and option overrides', async () => {
    let res = await request(url('/off/page'));
    assert.equal(res.body.toString(), 'hello');
    assert.equal(res.headers['x-plugin'], undefined);
    res = await request(url('/other/page'));
    assert.equal(res.headers['x-plugin'], 'route');
    assert.equal(res.body.toString(), 'HELLO');
  });
});

async function waitForLine(file: string, line: string): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      /* not written yet */
    }
    if (text.split('\n').includes(line)) return;
    if (Date.now() - t0 > 3000) assert.fail(`"${line}" not in ${file}:\n${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
