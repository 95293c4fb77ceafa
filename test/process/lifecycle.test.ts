// A running frontline's lifecycle from the outside: stopping with requests in flight (QUIT lets
// them finish, TERM stops at once), metric totals across a reload, and log reopening (USR1).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import { describe, it } from 'node:test';
import { startFrontline, startOrigin, waitFor } from '../helpers/servers.ts';

const slowOrigin = () =>
  startOrigin((req, res) => {
    const delay = req.url === '/slow' ? 800 : 0;
    setTimeout(() => res.end(`done ${req.url}`), delay);
  });

function get(port: number, path: string, agent: http.Agent | false) {
  return new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('stopping with requests in flight', () => {
  it('QUIT finishes in-flight requests, closes keep-alive connections, then exits 0', { timeout: 15_000 }, async () => {
    const origin = await slowOrigin();
    const fl = await startFrontline({ upstreams: { app: { servers: [{ url: origin.url }] } }, routes: [{ upstream: 'app' }] });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const warm = await get(fl.port, '/fast', agent);
      assert.equal(warm.connection, 'keep-alive');
      const idleSocketClosed = new Promise<void>((resolve) => {
        const free = (agent.freeSockets[`127.0.0.1:${fl.port}:`] ?? [])[0];
        if (!free) return resolve();
        free.once('close', () => resolve());
      });
      const slow = get(fl.port, '/slow', false);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      process.kill(fl.pid, 'SIGQUIT');
      const res = await slow;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'done /slow');
      assert.equal(res.connection, 'close', 'a response finished during a graceful stop closes its connection');
      await idleSocketClosed;
      const code = await fl.stop();
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      agent.destroy();
      await fl.stop();
      await origin.close();
    }
  });

  it('TERM stops at once, aborting requests in flight', { timeout: 15_000 }, async () => {
    const origin = await slowOrigin();
    const fl = await startFrontline({ upstreams: { app: { servers: [{ url: origin.url }] } }, routes: [{ upstream: 'app' }] });
    try {
      const slow = get(fl.port, '/slow', false).then(
        () => undefined,
        (err: Error) => err,
      );
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      const code = await fl.stop('SIGTERM');
      assert.match(String(await slow), /socket hang up|ECONNRESET/);
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 700, `a fast stop took ${Date.now() - t0} ms`);
    } finally {
      await fl.stop();
      await origin.close();
    }
  });
});

describe('metric totals across worker replacement', () => {
  it('keeps request counters from going down when a reload replaces the workers', { timeout: 20_000 }, async () => {
    const origin = await slowOrigin();
    const fl = await startFrontline({ upstreams: { app: { servers: [{ url: origin.url }] } }, routes: [{ upstream: 'app' }] });
    const total = async () => {
      const res = await get(fl.metricsPort, '/metrics', false);
      let sum = 0;
      for (const m of res.body.matchAll(/^frontline_requests_total\{[^}]*\} (\d+)/gm)) sum += Number(m[1]);
      return sum;
    };
    try {
      for (let i = 0; i < 7; i++) assert.equal((await get(fl.port, '/fast', false)).status, 200);
      assert.equal(await total(), 7);
      process.kill(fl.pid, 'SIGHUP');
      const t0 = Date.now();
      while (!fl.logs.some((l) => l.msg === 'reloaded')) {
        if (Date.now() - t0 > 10_000) assert.fail(`no reload seen:\n${fl.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await total(), 7, 'the replaced worker’s requests still count');
      await get(fl.port, '/fast', false);
      assert.equal(await total(), 8);
    } finally {
      await fl.stop();
      await origin.close();
    }
  });
});

describe('log rotation', () => {
  it('USR1 makes workers open the access log file again, as after logrotate moved it', { timeout: 15_000 }, async () => {
    const origin = await slowOrigin();
    const fl = await startFrontline({ upstreams: { app: { servers: [{ url: origin.url }] } }, routes: [{ upstream: 'app' }] });
    try {
      await get(fl.port, '/before', false);
      await waitFor(() => existsSync(fl.accessLog) && readFileSync(fl.accessLog, 'utf8').includes('/before'));
      renameSync(fl.accessLog, `${fl.accessLog}.1`);
      process.kill(fl.pid, 'SIGUSR1');
      await waitFor(() => fl.logs.some((l) => l.msg === 'received SIGUSR1'));
      await new Promise((r) => setTimeout(r, 200));
      await get(fl.port, '/after', false);
      const fresh = await waitFor(() => existsSync(fl.accessLog) && readFileSync(fl.accessLog, 'utf8'));
      assert.match(fresh, /"path":"\/after"/);
      assert.doesNotMatch(fresh, /\/before/);
      assert.doesNotMatch(readFileSync(`${fl.accessLog}.1`, 'utf8'), /\/after/);
    } finally {
      await fl.stop();
      await origin.close();
    }
  });
});
