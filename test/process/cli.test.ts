// The `frontline` command's own behaviour: check-config, schema, help, usage errors, and what
// the control commands say when nothing runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { configYaml, ROOT, runCli, tempDir } from './harness.ts';

const dir = tempDir();
const good = join(dir, 'good.yaml');
writeFileSync(good, configYaml({ socket: join(dir, 'c.sock'), listenPorts: [8080, 8081], originPort: 3000, metricsPort: 9090 }));
const bad = join(dir, 'bad.yaml');
// Line 13: a route naming an upstream that does not exist.
writeFileSync(bad, configYaml({ socket: join(dir, 'c.sock'), listenPorts: [8080], originPort: 3000, metricsPort: 9090 }).replace('upstream: app', 'upstream: nowhere'));

describe('frontline check-config', () => {
  test('a valid file: "FILE: ok (...)", exit 0', { timeout: 5_000 }, async () => {
    const r = await runCli(['check-config', good]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${good}: ok (2 listeners, 1 upstream, 1 route)`);
  });

  test('an invalid file: every problem with file:line, exit 1', { timeout: 5_000 }, async () => {
    const r = await runCli(['check-config', bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(`${bad}:13:`), r.stderr);
    assert.match(r.stderr, /no upstream named "nowhere"/);
  });

  test('duplicate routes and route paths no request can have, exit 1', { timeout: 5_000 }, async () => {
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      `listeners:
  - port: 8080
upstreams:
  app:
    servers:
      - url: http://127.0.0.1:3000
routes:
  - path: /api
    upstream: app
  - host: "*"
    path: /api
    upstream: app
  - path: /a//b
    upstream: app
`,
    );
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(r.stderr.includes(`${file}:10:5: routes[1]: same host and path as routes[0] (host any, path "/api")`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:13:11: routes[2].path: requests are matched by their normalised path, which is never "/a//b"; write "/a/b"`), r.stderr);
  });

  test('the files it names: certificates, keys and plugin modules, exit 1', { timeout: 5_000 }, async () => {
    const tls = join(ROOT, 'test/fixtures/tls');
    const file = join(dir, 'files.yaml');
    writeFileSync(
      file,
      `listeners:
  - port: 8443
    tls:
      certificates:
        - server_names: [a.test]
          cert: ${join(tls, 'a.test.crt')}
          key: ${join(tls, 'b.test.key')}
        - server_names: [c.test]
          cert: missing.crt
          key: ${join(tls, 'a.test.key')}
upstreams:
  app:
    servers:
      - url: http://127.0.0.1:3000
plugins:
  - module: ./missing-plugin.ts
  - module: no-such-frontline-plugin
  - module: pino
routes:
  - path: /api
    upstream: app
`,
    );
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 1, r.stdout);
    const lines = r.stderr.split('\n');
    const expect = (at: string, what: RegExp) =>
      assert.ok(lines.some((l) => l.startsWith(`  ${file}:${at}`) && what.test(l)), `${at} ${what} in:\n${r.stderr}`);
    expect('5:11: listeners[0].tls.certificates[0]:', /are not a usable certificate and key: .*key values mismatch/);
    expect('9:17: listeners[0].tls.certificates[1].cert:', /cannot read .*missing\.crt/);
    expect('16:13: plugins[0].module:', /no such file: .*missing-plugin\.ts/);
    expect('17:13: plugins[1].module:', /cannot find the package "no-such-frontline-plugin"/);
    assert.equal(lines.filter((l) => l.startsWith('  ')).length, 4, r.stderr);
  });

  test('a missing file, exit 1', { timeout: 5_000 }, async () => {
    const r = await runCli(['check-config', join(dir, 'missing.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read the file/);
  });

  test('no file is a usage error, exit 2', { timeout: 5_000 }, async () => {
    const r = await runCli(['check-config']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: frontline check-config FILE/);
  });
});

test('frontline schema prints the JSON Schema', { timeout: 5_000 }, async () => {
  const r = await runCli(['schema']);
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { $schema: string; properties: Record<string, { type?: string }> };
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.properties.listeners.type, 'array');
});

describe('frontline help and usage', () => {
  test('help lists the commands', { timeout: 5_000 }, async () => {
    const r = await runCli(['help']);
    assert.equal(r.code, 0);
    for (const c of ['serve', 'proxy', 'check-config', 'schema', 'status', 'reload', 'stop', 'demo']) {
      assert.match(r.stdout, new RegExp(`frontline ${c}\\b`));
    }
  });

  test('COMMAND --help shows its usage', { timeout: 5_000 }, async () => {
    const r = await runCli(['stop', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: frontline stop \[--graceful\]/);
  });

  test('an unknown command or option is a usage error, exit 2', { timeout: 5_000 }, async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    const r = await runCli(['status', '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown option '--bogus'/);
  });
});

test('control commands say clearly when nothing runs', { timeout: 15_000 }, async () => {
  const socket = join(dir, 'nobody.sock');
  for (const command of ['status', 'reload', 'stop']) {
    const r = await runCli([command, '--socket', socket]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `frontline: no frontline is running: nothing listens on ${socket} (is it started? pass --socket)`);
  }
  // --config FILE finds the socket the file names.
  const r = await runCli(['status', '--config', good]);
  assert.match(r.stderr, new RegExp(`nothing listens on ${join(dir, 'c.sock')}`));
});

/** A Node older than 24 on PATH, skipping the project's own (npm puts node_modules/.bin first). */
function nodeOlderThan24(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (Number(/^v(\d+)/.exec(version)?.[1]) < 24) return candidate;
    } catch {
      /* not runnable: try the next */
    }
  }
  return undefined;
}

test('bin/frontline.js runs on an older node by re-executing the pinned runtime', { timeout: 10_000 }, async (t) => {
  const old = nodeOlderThan24();
  if (!old) return t.skip('no node older than 24 on PATH');
  const r = await runCli(['check-config', good], 10_000, old, join(ROOT, 'bin/frontline.js'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `${good}: ok (2 listeners, 1 upstream, 1 route)`);
});
