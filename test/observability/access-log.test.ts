// Fixed before any Date is formatted: a zone with a half-hour offset checks $time_local's minutes.
process.env.TZ = 'Asia/Kolkata';

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createAccessLog } from '../../src/observability/access-log.ts';
import { RequestContext } from '../../src/proxy/context.ts';

const dir = mkdtempSync(join(tmpdir(), 'frontline-access-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fullContext(): RequestContext {
  const ctx = new RequestContext({
    id: 'req-1',
    start: 0,
    workerId: 2,
    clientAddress: '203.0.113.7',
    clientPort: 51000,
    scheme: 'https',
    httpVersion: '1.1',
    method: 'GET',
    host: 'example.com',
    url: '/a/b?x="1"',
    headers: {
      'user-agent': 'curl/8.0 "quoted" \\ tab\t',
      // As node:http delivers header values: one character per byte ("é" in UTF-8).
      referer: 'https://example.com/r\xc3\xa9',
      // alice:secret
      authorization: 'Basic YWxpY2U6c2VjcmV0',
    },
  });
  ctx.status = 200;
  ctx.bytesSent = 1234;
  ctx.upstreamAddress = 'http://10.0.0.2:8080';
  ctx.upstreamAttempts = 2;
  ctx.answeredBy = 'firewall:1001';
  Object.assign(ctx.timings, { totalMs: 12.3456789, upstreamConnectMs: 0, upstreamFirstByteMs: 3.2, ttfbMs: 4.0006 });
  return ctx;
}

function bareContext(): RequestContext {
  const ctx = new RequestContext({
    id: 'req-2',
    start: 0,
    workerId: 2,
    clientAddress: '',
    clientPort: 0,
    scheme: 'http',
    httpVersion: '2.0',
    method: 'POST',
    host: 'example.org',
    url: '/',
    headers: {},
  });
  ctx.status = 502;
  ctx.error = 'upstream connect failed';
  return ctx;
}

test('json: one line per request with every field; timings that did not happen are null', async () => {
  const path = join(dir, 'access.json.log');
  const log = createAccessLog({ enabled: true, format: 'json', path }, 2);
  const before = Date.now();
  log.write(fullContext());
  log.write(bareContext());
  await log.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 2);
  const [full, bare] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const time = Date.parse(full.time as string);
  assert.ok(time >= before - 1 && time <= Date.now(), `time ${full.time}`);
  assert.match(full.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const { time: _, ...rest } = full;
  assert.deepEqual(rest, {
    method: 'GET',
    host: 'example.com',
    path: '/a/b?x="1"',
    status: 200,
    bytes: 1234,
    total_ms: 12.346,
    upstream_connect_ms: 0,
    upstream_first_byte_ms: 3.2,
    ttfb_ms: 4.001,
    upstream_address: 'http://10.0.0.2:8080',
    attempts: 2,
    worker: 2,
    request_id: 'req-1',
    client_address: '203.0.113.7',
    user_agent: 'curl/8.0 "quoted" \\ tab\t',
    referer: 'https://example.com/ré',
    error: null,
    answered_by: 'firewall:1001',
  });
  assert.equal(bare.total_ms, null);
  assert.equal(bare.upstream_connect_ms, null);
  assert.equal(bare.upstream_first_byte_ms, null);
  assert.equal(bare.ttfb_ms, null);
  assert.equal(bare.upstream_address, null);
  assert.equal(bare.user_agent, null);
  assert.equal(bare.referer, null);
  assert.equal(bare.error, 'upstream connect failed');
  assert.equal(bare.answered_by, null);
});

test('combined: nginx format with its escaping and "-" for empty values', async () => {
  const path = join(dir, 'access.combined.log');
  const log = createAccessLog({ enabled: true, format: 'combined', path }, 2);
  log.write(fullContext());
  log.write(bareContext());
  await log.close();
  const [full, bare, end] = readFileSync(path, 'latin1').split('\n');
  assert.equal(end, '');
  const time = String.raw`\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) \+0530\]`;
  assert.match(
    full,
    new RegExp(
      '^' +
        escapeRegExp(String.raw`203.0.113.7 - alice `) +
        time +
        escapeRegExp(
          String.raw` "GET /a/b?x=\x221\x22 HTTP/1.1" 200 1234 "https://example.com/r\xC3\xA9" "curl/8.0 \x22quoted\x22 \x5C tab\x09"`,
        ) +
        '$',
    ),
  );
  assert.match(bare, new RegExp('^' + escapeRegExp('- - - ') + time + escapeRegExp(' "POST / HTTP/2.0" 502 0 "-" "-"') + '$'));
  // The local time is the time of writing, in the process's zone.
  const [, day, month, year, hour, minute] = full.match(new RegExp(time)) as RegExpMatchArray;
  const now = new Date();
  const expected = now.toLocaleString('en-GB', { timeZone: 'Asia/Kolkata', day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  assert.ok(expected.includes(`${day} ${month} ${year}`) && expected.includes(`${hour}:`), `${full} vs ${expected}`);
  assert.ok(Math.abs(Number(minute) - now.getMinutes()) <= 1);
});

test('lines buffered at process.exit() are written', () => {
  const path = join(dir, 'exit.log');
  const module = new URL('../../src/observability/access-log.ts', import.meta.url).href;
  const context = new URL('../../src/proxy/context.ts', import.meta.url).href;
  const script = `
    import { createAccessLog } from ${JSON.stringify(module)};
    import { RequestContext } from ${JSON.stringify(context)};
    const log = createAccessLog({ enabled: true, format: 'json', path: ${JSON.stringify(path)} }, 1);
    for (let i = 0; i < 3; i++) {
      log.write(new RequestContext({ id: 'r' + i, start: 0, workerId: 1, clientAddress: '::1', clientPort: 1,
        scheme: 'http', httpVersion: '1.1', method: 'GET', host: 'h', url: '/' + i, headers: {} }));
    }
    process.exit(0);
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ids = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { request_id: string }).request_id);
  assert.deepEqual(ids, ['r0', 'r1', 'r2']);
});

test('writes after close are dropped; close is idempotent; disabled logs do nothing', async () => {
  const path = join(dir, 'closed.log');
  const log = createAccessLog({ enabled: true, format: 'json', path }, 1);
  log.write(fullContext());
  const closing = log.close();
  log.write(fullContext());
  assert.equal(log.close(), closing);
  await closing;
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 1);
  const off = createAccessLog({ enabled: false, format: 'json', path: join(dir, 'never.log') }, 1);
  off.write(fullContext());
  await off.close();
  assert.throws(() => readFileSync(join(dir, 'never.log')), { code: 'ENOENT' });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('to stdout: close() returns even when the reader has gone (EPIPE)', async () => {
  const module = new URL('../../src/observability/access-log.ts', import.meta.url).href;
  const context = new URL('../../src/proxy/context.ts', import.meta.url).href;
  const script = `
    import { createAccessLog } from ${JSON.stringify(module)};
    import { RequestContext } from ${JSON.stringify(context)};
    const errors = [];
    const log = createAccessLog({ enabled: true, format: 'combined', path: 'stdout' }, 1, (err) => errors.push(err.code));
    const ctx = new RequestContext({ id: 'r', start: 0, workerId: 1, clientAddress: '::1', clientPort: 1,
      scheme: 'http', httpVersion: '1.1', method: 'GET', host: 'h', url: '/' + 'x'.repeat(1000), headers: {} });
    for (let i = 0; i < 100 && errors.length === 0; i++) {
      log.write(ctx);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await log.close();
    process.stderr.write('closed ' + errors.join());
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.equal(stderr, 'closed EPIPE');
});
