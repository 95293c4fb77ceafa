// `frontline demo` end to end, as `npm start` runs it (on ports chosen here): the demo origin
// behind frontline with the firewall, the WAF's starter rules and the HTML features on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { CLI, freePort, request } from '../helpers/servers.ts';

test('the demo answers, blocks what it says it blocks, and rewrites its HTML', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const metrics = await freePort();
  const socket = join(mkdtempSync(join(tmpdir(), 'frontline-demo-')), 'control.sock');
  const proc = spawn(process.execPath, [CLI, 'demo', '--listen', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metrics}`, '--socket', socket], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FRONTLINE_CRS: '' },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes('frontline demo is running')) {
      assert.ok(Date.now() < deadline && proc.exitCode === null, `the demo did not start:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(out.includes(`http://127.0.0.1:${port}/`), out);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await request(`${base}/`)).status, 200);
    assert.equal((await request(`${base}/wp-admin/`)).status, 403, 'the firewall');
    assert.equal((await request(`${base}/?q=1'%20or%201=1--`)).status, 403, 'the WAF');
    const json = await request(`${base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"<script>alert(1)</script>"}' });
    assert.equal(json.status, 403, 'the WAF reads JSON bodies');
    const form = await request(`${base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=alice&x=1' });
    assert.equal(form.status, 200);
    assert.ok(form.body.toString().includes('name=alice&x=1'), 'the form body reaches the origin intact');
    const contact = await request(`${base}/contact`);
    assert.equal(contact.status, 200);
    assert.ok(contact.body.toString().includes('data-fl-email'), 'e-mail addresses are obfuscated');
    assert.equal((await request(`http://127.0.0.1:${metrics}/metrics`)).status, 200);
    assert.ok(!err.includes('"level":50'), `no errors logged:\n${err}`);
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await once(proc, 'exit');
  }
});
