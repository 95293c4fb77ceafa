// The WAF in a running frontline: CRS blocks attacks before the origin sees them and lets ordinary
// requests (bodies included, byte for byte) through; the audit log has the transaction's line when
// the response arrives; DetectionOnly logs and passes; a route can switch the WAF off; a firewall
// skip rule can skip it; a SecLang file that does not load rejects the configuration.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempDir } from '../process/harness.ts';
import { request, startFrontline, startOrigin, type Frontline, type Origin } from '../helpers/servers.ts';

const CRS = new URL('../../../shared/crs/', import.meta.url).pathname;
const haveCrs = existsSync(join(CRS, 'rules'));

interface Seen {
  url: string;
  body: Buffer;
}

async function echoOrigin(seen: Seen[]): Promise<Origin> {
  return startOrigin((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'text/plain');
      res.end('origin says hello');
    });
  });
}

function auditLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('WAF with OWASP CRS', { skip: haveCrs ? false : 'the shared CRS is not beside the project' }, () => {
  let origin: Origin;
  let fl: Frontline;
  const seen: Seen[] = [];
  const dir = tempDir();
  const audit = join(dir, 'audit.jsonl');

  before(async () => {
    origin = await echoOrigin(seen);
    writeFileSync(join(dir, 'setup.conf'), 'SecRuleEngine On\nSecRequestBodyAccess On\nSecRequestBodyLimit 65536\nSecRequestBodyLimitAction ProcessPartial\nSecAuditEngine On\n');
    fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [
        { path: '/', upstream: 'app' },
        { path: '/unguarded/', upstream: 'app', plugins: { waf: false } },
      ],
      waf: { enabled: true, files: [join(dir, 'setup.conf'), join(CRS, 'crs-setup.conf.example'), join(CRS, 'rules/*.conf')], audit_log: audit },
    }, { timeoutMs: 30_000 });
  });
  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  test('attacks are answered 403 and never reach the origin; ordinary requests pass', async () => {
    const host = { host: 'shop.example' };
    const attacks = ["/item?id=1'%20UNION%20SELECT%20password%20FROM%20users--", '/?q=%3Cscript%3Ealert(1)%3C/script%3E', '/files?name=../../../../etc/passwd'];
    for (const path of attacks) {
      const res = await request(`http://127.0.0.1:${fl.port}${path}`, { headers: { ...host, 'user-agent': 'Mozilla/5.0', accept: 'text/html' } });
      assert.equal(res.status, 403, path);
    }
    assert.equal(seen.filter((s) => attacks.includes(s.url)).length, 0);
    const ok = await request(`http://127.0.0.1:${fl.port}` + '/products?page=2&sort=price', { headers: { ...host, 'user-agent': 'Mozilla/5.0', accept: 'text/html' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'origin says hello');
  });

  test('request bodies are inspected and then forwarded whole, also past the inspection limit', async () => {
    const headers = { host: 'shop.example', 'user-agent': 'Mozilla/5.0', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
    const blocked = await request(`http://127.0.0.1:${fl.port}` + '/login', { method: 'POST', headers, body: "user=admin'--&pass=x' or 1=1--" });
    assert.equal(blocked.status, 403);
    const form = 'user=alice&comment=' + 'hello world '.repeat(10_000);
    const passed = await request(`http://127.0.0.1:${fl.port}` + '/comment', { method: 'POST', headers, body: form });
    assert.equal(passed.status, 200);
    const received = seen.find((s) => s.url === '/comment');
    assert.ok(received !== undefined);
    assert.equal(received.body.toString(), form, 'the origin got every byte, those read for inspection first');
  });

  test('the audit log has the line of a transaction when its response arrives', async () => {
    const marker = `marker-${Date.now()}`;
    const res = await request(`http://127.0.0.1:${fl.port}` + '/?cmd=%3Bcat%20/etc/passwd', { headers: { host: 'shop.example', 'user-agent': 'Mozilla/5.0', accept: 'text/html', 'x-crs-test': marker } });
    assert.equal(res.status, 403);
    const line = auditLines(audit).find((entry) => entry.marker === marker);
    assert.ok(line !== undefined, 'written before the response finished');
    assert.equal(line.action, 'deny');
    assert.equal(line.status, 403);
    assert.ok((line.anomaly_score as number) >= 5);
    const rules = line.rules as { id: number; file: string; line: number; tags: string[] }[];
    assert.ok(rules.some((rule) => rule.id === 949110));
    assert.ok(rules.every((rule) => rule.file.endsWith('.conf') && rule.line > 0));
  });

  test('the scans ran on the worker\'s waf thread pool, whose metrics count them', async () => {
    const metrics = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
    const completed = /^frontline_pool_tasks_completed_total\{[^}]*pool="waf"[^}]*\} (\d+)/m.exec(metrics);
    assert.ok(completed !== null, 'the waf pool has metrics');
    assert.ok(Number(completed[1]) >= 5, `tasks completed: ${completed[1]}`);
    assert.match(metrics, /^frontline_pool_threads\{[^}]*pool="waf"[^}]*\} 1$/m);
  });

  test('a route with plugins.waf false is not inspected', async () => {
    const res = await request(`http://127.0.0.1:${fl.port}` + '/unguarded/?q=%3Cscript%3Ealert(1)%3C/script%3E', { headers: { host: 'shop.example' } });
    assert.equal(res.status, 200);
  });
});

describe('WAF modes and configuration', () => {
  let origin: Origin;
  const seen: Seen[] = [];
  const dir = tempDir();
  const rules = 'SecRequestBodyAccess On\nSecRule ARGS "@contains evil" "id:1001,phase:2,deny,status:406,log,msg:\'evil argument\'"\n';

  before(async () => {
    origin = await echoOrigin(seen);
    writeFileSync(join(dir, 'rules.conf'), rules);
  });
  after(async () => {
    await origin?.close();
  });

  test('On blocks with the rule status; DetectionOnly logs the match and passes; a firewall skip rule skips the WAF', async () => {
    const audit = join(dir, 'detect.jsonl');
    const fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
      firewall: { rules: [{ id: 'trusted', expression: 'http.request.headers["x-trusted"][0] == "yes"', action: 'skip', skip: { phases: ['waf'] } }] },
      waf: { enabled: true, files: [join(dir, 'rules.conf')], directives: 'SecAuditEngine RelevantOnly', audit_log: audit },
    });
    try {
      assert.equal((await request(`http://127.0.0.1:${fl.port}` + '/?x=evil', { headers: { host: 'a' } })).status, 406);
      assert.equal((await request(`http://127.0.0.1:${fl.port}` + '/?x=evil', { headers: { host: 'a', 'x-trusted': 'yes' } })).status, 200);
      assert.equal((await request(`http://127.0.0.1:${fl.port}` + '/?x=fine', { headers: { host: 'a' } })).status, 200);
      fl.writeConfig({ waf: { enabled: true, files: [join(dir, 'rules.conf')], engine: 'DetectionOnly', directives: 'SecAuditEngine RelevantOnly', audit_log: audit } });
      await runCli(['reload', '--socket', fl.controlSocket]);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await request(`http://127.0.0.1:${fl.port}` + '/?x=evil', { headers: { host: 'a' } })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'DetectionOnly passes the request');
      const lines = auditLines(audit);
      assert.equal(lines.filter((l) => l.action === 'deny').length, 1, 'RelevantOnly: only matching transactions, and the fine request is not one');
      const detected = lines.find((l) => l.action === 'detection-only');
      assert.ok(detected !== undefined);
      assert.deepEqual((detected.rules as { id: number; msg: string }[]).map((r) => [r.id, r.msg]), [[1001, 'evil argument']]);
    } finally {
      await fl.stop();
    }
  });

  test('a body over SecRequestBodyNoFilesLimit is refused with 413 under Reject, and never reaches the origin', async () => {
    const fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
      waf: { enabled: true, files: [join(dir, 'rules.conf')], directives: 'SecRequestBodyNoFilesLimit 100\nSecRequestBodyLimitAction Reject', threads: 0 },
    });
    try {
      const headers = { host: 'a', 'content-type': 'application/x-www-form-urlencoded' };
      const big = await request(`http://127.0.0.1:${fl.port}/form-big`, { method: 'POST', headers, body: `x=${'a'.repeat(200)}` });
      assert.equal(big.status, 413);
      assert.ok(!seen.some((s) => s.url === '/form-big'));
      const small = await request(`http://127.0.0.1:${fl.port}/form-small`, { method: 'POST', headers, body: 'x=fine' });
      assert.equal(small.status, 200);
      assert.equal(seen.find((s) => s.url === '/form-small')?.body.toString(), 'x=fine');
    } finally {
      await fl.stop();
    }
  });

  test('a SecLang file that does not load rejects the configuration with its file and line', async () => {
    writeFileSync(join(dir, 'bad.conf'), 'SecRuleEngine On\n\nSecRule ARGS "@rx (unclosed" "id:2,phase:2,deny"\n');
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, `listeners: [{ port: 0 }]\nupstreams: { app: { servers: [{ url: "${origin.url}" }] } }\nroutes: [{ path: /, upstream: app }]\nwaf: { enabled: true, files: [bad.conf] }\n`);
    const result = await runCli(['check-config', config]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /bad\.conf:3/);
  });
});
