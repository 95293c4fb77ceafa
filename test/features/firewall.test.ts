// Firewall rules in a running frontline: block before the origin, log and pass, skip, lists,
// the access log's rule ids and the per-rule metrics; a rule that does not parse rejects the
// configuration (check-config and reload) and the running rules stay; a changed rule set is
// reloaded without a failed request.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { configYaml, freePort, get, load, runCli, Serve, startOrigin as startPlainOrigin, status, tempDir } from '../process/harness.ts';
import { accessLines, rawRequest, request, startFrontline, startOrigin, waitFor, type Frontline, type Origin } from '../helpers/servers.ts';

describe('firewall rules in the access phase', () => {
  let origin: Origin;
  let fl: Frontline;
  const seenByOrigin: string[] = [];

  before(async () => {
    origin = await startOrigin((req, res) => {
      seenByOrigin.push(req.url ?? '');
      res.end('origin');
    });
    fl = await startFrontline({
      upstreams: { app: { servers: [{ url: origin.url }] } },
      routes: [{ path: '/', upstream: 'app' }],
      firewall: {
        rules: [
          { id: 'log-admin', expression: 'http.request.uri.path contains "/admin"', action: 'log' },
          {
            id: 'trusted',
            expression: 'http.request.headers["x-trusted"][0] == "yes"',
            action: 'skip',
            skip: { rules: ['block-admin'] },
          },
          { id: 'block-admin', expression: 'lower(http.request.uri.path) matches "^/admin/"', action: 'block', status: 451, body: 'no admin\n' },
          { id: 'office-only', expression: 'http.request.uri.path eq "/internal" and not ip.src in $office', action: 'block' },
          { id: 'bad-agent', expression: 'any(http.request.headers["user-agent"][*] contains "sqlmap")', action: 'block' },
          // Header names keep the case they were sent with; the map is keyed by lower-case names.
          { id: 'debug-header', expression: 'any(http.request.headers.names[*] == "X-Debug-Token") and http.request.headers.values[1] == "t0"', action: 'block', status: 418 },
          { id: 'disabled', expression: 'ssl or not ssl', action: 'block', enabled: false },
        ],
        lists: { office: { type: 'ip', items: ['10.0.0.0/8', '192.168.1.1..192.168.1.9'] } },
      },
    });
  });
  after(async () => {
    await fl?.stop();
    await origin?.close();
  });

  const url = (path: string) => `http://127.0.0.1:${fl.port}${path}`;

  test('a block rule answers with its status and body; the origin never sees the request', async () => {
    const res = await request(url('/ADMIN/panel'));
    assert.equal(res.status, 451);
    assert.equal(res.body.toString(), 'no admin\n');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.ok(!seenByOrigin.includes('/ADMIN/panel'));
    const blocked = await request(url('/internal'));
    assert.equal(blocked.status, 403);
    assert.match(blocked.body.toString(), /office-only/);
    assert.equal((await request(url('/x'), { headers: { 'user-agent': 'sqlmap/1.7' } })).status, 403);
    const raw = await rawRequest(fl.port, 'GET /dbg HTTP/1.1\r\nHost: a.test\r\nX-Debug-Token:  t0 \r\nConnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 418 /);
    const lowerCase = await rawRequest(fl.port, 'GET /dbg HTTP/1.1\r\nHost: a.test\r\nx-debug-token: t0\r\nConnection: close\r\n\r\n');
    assert.match(lowerCase, /^HTTP\/1\.1 200 /);
  });

  test('log and skip rules let the request through; the access log names every matching rule', async () => {
    const res = await request(url('/admin/panel?x=1'), { headers: { 'x-trusted': 'yes' } });
    assert.equal(res.status, 200);
    assert.ok(seenByOrigin.includes('/admin/panel?x=1'));
    assert.equal((await request(url('/hello'))).status, 200);
    const lines = await waitFor(() => {
      const all = accessLines(fl);
      return all.some((l) => l.path === '/hello') && all.some((l) => l.path === '/admin/panel?x=1') ? all : undefined;
    });
    const passed = lines.find((l) => l.path === '/admin/panel?x=1')!;
    assert.deepEqual(passed.rules, ['firewall:log-admin', 'firewall:trusted']);
    assert.equal(passed.status, 200);
    const blocked = lines.find((l) => l.path === '/ADMIN/panel')!;
    assert.deepEqual(blocked.rules, ['firewall:block-admin'], 'contains is case-sensitive; lower() is not applied by log-admin');
    assert.equal(blocked.answered_by, 'firewall:block-admin');
    assert.equal(lines.find((l) => l.path === '/hello')!.rules, undefined);
  });

  test('per-rule match counters are in the metrics', async () => {
    // The primary collects worker metrics at scrape time.
    const body = (await request(`http://127.0.0.1:${fl.metricsPort}/metrics`)).body.toString();
    assert.match(body, /frontline_rule_matches_total\{phase="firewall",rule="block-admin",action="block"\} 1\b/);
    assert.match(body, /frontline_rule_matches_total\{phase="firewall",rule="log-admin",action="log"\} 1\b/);
    assert.match(body, /frontline_rule_matches_total\{phase="firewall",rule="office-only",action="block"\} 1\b/);
  });
});

describe('firewall configuration: errors and reload', () => {
  const dir = tempDir();
  const file = join(dir, 'frontline.yaml');
  const socket = join(dir, 'control.sock');
  let origin: Awaited<ReturnType<typeof startPlainOrigin>>;
  let serve: Serve;
  let listen = '';
  let base = '';

  const rules = (expression: string) =>
    `firewall:\n  rules:\n    - id: r1\n      expression: 'http.request.uri.path contains "/blocked"'\n      action: block\n    - id: r2\n      expression: ${JSON.stringify(expression)}\n      action: block\n`;

  before(async () => {
    origin = await startPlainOrigin();
    const port = await freePort();
    listen = `http://127.0.0.1:${port}`;
    base = configYaml({ socket, listenPorts: [port], originPort: origin.port, metricsPort: await freePort(), distribution: 'shared' });
    writeFileSync(file, base + rules('http.request.uri.path eq "/old"'));
    serve = new Serve(['serve', '--config', file]);
    await serve.ready();
  });
  after(async () => {
    await serve?.kill();
    await origin?.close();
  });

  test('check-config rejects a rule that does not parse, naming the rule, the YAML line and the position in the expression', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, base + rules('http.request.uri.path eq 42'));
    const cli = await runCli(['check-config', bad]);
    assert.equal(cli.code, 1);
    const line = (base + rules('')).split('\n').findIndex((l) => l.includes('expression: ""')) + 1;
    assert.ok(cli.stderr.includes(`${bad}:${line}:`), cli.stderr);
    assert.match(cli.stderr, /firewall\.rules\[1\]\.expression: rule "r2": count_mismatch at line 1, column 28 of the expression/);
  });

  test('check-config rejects rule files with errors and unknown lists with the rule file position', async () => {
    const ruleFile = join(dir, 'rules.yaml');
    writeFileSync(ruleFile, stringify([{ id: 'f1', expression: 'ip.src in $nowhere', action: 'log' }]));
    const config = join(dir, 'with-file.yaml');
    writeFileSync(config, `${base}firewall:\n  files: [rules.yaml]\n`);
    const cli = await runCli(['check-config', config]);
    assert.equal(cli.code, 1);
    assert.ok(cli.stderr.includes(`${ruleFile}:2:`), cli.stderr);
    assert.match(cli.stderr, /rule "f1" uses \$nowhere, but firewall.lists has no list of that name/);
  });

  test('a reload with a broken rule keeps the running rules; a good one applies without a failed request', { timeout: 20_000 }, async () => {
    assert.equal((await get(`${listen}/old`)).status, 403);
    writeFileSync(file, base + rules('http.request.uri.path eq "/new" and'));
    const failed = await runCli(['reload', '--socket', socket]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /rule "r2": expected_name/);
    assert.equal((await status(socket)).configVersion, 1);
    assert.equal((await get(`${listen}/old`)).status, 403);

    writeFileSync(file, base + rules('http.request.uri.path eq "/new"'));
    const traffic = load(`${listen}/fine`);
    await new Promise((r) => setTimeout(r, 200));
    const reloaded = await runCli(['reload', '--socket', socket]);
    await new Promise((r) => setTimeout(r, 200));
    const { ok, failures } = await traffic.stop();
    assert.equal(reloaded.code, 0, reloaded.stderr);
    assert.ok(ok > 0);
    assert.deepEqual(failures, []);
    assert.equal((await get(`${listen}/old`)).status, 200);
    assert.equal((await get(`${listen}/new`)).status, 403);
    assert.equal((await get(`${listen}/blocked`)).status, 403);
  });
});
