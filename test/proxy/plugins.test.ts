// Plugins from the outside: a TypeScript module named in the config implements hooks for each
// phase; a route can switch it off or give it other options.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { request, ROOT, startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

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
    },
    async access(ctx) {
      await new Promise((r) => setTimeout(r, 5));
      if (ctx.path.startsWith('/blocked')) {
        ctx.answeredBy = 'test-plugin';
        return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'blocked by ' + options.tag };
      }
    },
    upstream(ctx) {
      ctx.upstreamHeaders['x-plugin-tag'] = ctx.get(seenAt);
    },
    responseHeaders(ctx, head) {
      head.headers['x-plugin'] = options.tag;
      if (ctx.path === '/status-rewrite') head.status = 202;
    },
    responseBody(ctx, head) {
      if (!String(head.headers['content-type'] ?? '').startsWith('text/plain')) return undefined;
      return new Transform({ transform(chunk, _enc, done) { done(null, chunk.toString().toUpperCase()); } });
    },
    log(ctx) {
      appendFileSync(options.logFile, ctx.id + ' ' + ctx.status + ' ' + ctx.get(seenAt) + '\\n');
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
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', 'x-tag-seen': String(req.headers['x-plugin-tag']) });
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
