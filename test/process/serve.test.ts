// `frontline serve` from the outside: workers, CPU pinning, respawn, reload (bad and good),
// the control socket, the admin listener, and stopping.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  configYaml,
  control,
  cpusAllowed,
  freePort,
  get,
  load,
  runCli,
  Serve,
  startOrigin,
  status,
  tempDir,
  until,
  type ConfigOptions,
} from './harness.ts';

describe('frontline serve (reuseport, 2 workers)', () => {
  const dir = tempDir();
  const file = join(dir, 'frontline.yaml');
  const socket = join(dir, 'control.sock');
  let options: ConfigOptions;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let serve: Serve;
  let listenUrl = '';
  const seenPids = new Set<number>();

  const workerPids = async () => {
    const s = await status(socket);
    for (const w of s.workers) if (w.pid !== null) seenPids.add(w.pid);
    return new Map(s.workers.map((w) => [w.id, w.pid]));
  };

  before(async () => {
    origin = await startOrigin();
    options = { socket, listenPorts: [await freePort()], originPort: origin.port, metricsPort: await freePort() };
    writeFileSync(file, configYaml(options));
    serve = new Serve(['serve', '--config', file]);
    const ready = await serve.ready();
    listenUrl = (ready.listeners as string[])[0];
  });

  after(async () => {
    await serve.kill([...seenPids]);
    await origin.close();
  });

  test('the ready line names listeners, metrics, control socket and workers', { timeout: 5_000 }, () => {
    const ready = serve.lines.find((l) => l.msg === 'ready')!;
    assert.deepEqual(ready.listeners, [`http://127.0.0.1:${options.listenPorts[0]}`]);
    assert.equal(ready.metrics, `http://127.0.0.1:${options.metricsPort}/metrics`);
    assert.equal(ready.control_socket, socket);
    assert.equal(ready.workers, 2);
  });

  test('the control socket is private to its owner (0600)', { timeout: 5_000 }, () => {
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
  });

  test('status shows every worker with its pid and the CPU it is pinned to', { timeout: 5_000 }, async () => {
    const s = await status(socket);
    assert.equal(s.configVersion, 1);
    assert.equal(s.distribution, 'reuseport');
    assert.deepEqual(s.workers.map((w) => w.id), [0, 1]);
    for (const w of s.workers) {
      assert.equal(w.state, 'ready');
      assert.ok(w.pid, 'a pid');
      seenPids.add(w.pid);
      assert.equal(typeof w.cpu, 'number');
      assert.equal(cpusAllowed(w.pid), String(w.cpu), `worker ${w.id} pinned to CPU ${w.cpu}`);
    }
  });

  test('requests flow through a worker to the origin, and status counts them', { timeout: 5_000 }, async () => {
    const r = await get(`${listenUrl}/hello`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'origin /hello');
    const s = await status(socket);
    assert.ok(s.workers.reduce((n, w) => n + (w.requests ?? 0), 0) >= 1);
  });

  test('the admin listener serves /metrics and /status', { timeout: 5_000 }, async () => {
    const metrics = await get(`http://127.0.0.1:${options.metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^# (HELP|TYPE) /m);
    const st = await get(`http://127.0.0.1:${options.metricsPort}/status`);
    assert.equal(st.status, 200);
    assert.equal((JSON.parse(st.body) as { workers: unknown[] }).workers.length, 2);
    assert.equal((await get(`http://127.0.0.1:${options.metricsPort}/nope`)).status, 404);
  });

  test('a killed worker is respawned under the same id', { timeout: 8_000 }, async () => {
    const before = await workerPids();
    process.kill(before.get(0)!, 'SIGKILL');
    const after = await until('worker 0 has a new pid', 6_000, async () => {
      const s = await status(socket);
      const w0 = s.workers.find((w) => w.id === 0 && w.state === 'ready');
      return w0 && w0.pid !== before.get(0) ? s : undefined;
    });
    for (const w of after.workers) if (w.pid) seenPids.add(w.pid);
    assert.equal(after.workers.find((w) => w.id === 1)?.pid, before.get(1), 'worker 1 untouched');
    const w0 = after.workers.find((w) => w.id === 0)!;
    assert.equal(cpusAllowed(w0.pid!), String(w0.cpu), 'the new worker 0 is pinned to the same CPU');
    const crash = serve.lines.find((l) => l.msg?.includes(`pid ${before.get(0)}) was killed by SIGKILL`));
    assert.ok(crash, 'the crash is logged with its signal');
  });

  test('a broken configuration keeps the old workers (HUP and `frontline reload`)', { timeout: 8_000 }, async () => {
    const before = await workerPids();
    // Line 1: an invalid worker count, reported with file:line.
    writeFileSync(file, configYaml(options).replace('workers: 2', 'workers: two'));
    process.kill(serve.pid, 'SIGHUP');
    await serve.waitForLog((l) => typeof l.error === 'string' && l.msg!.startsWith('reload failed'), 5_000);
    const cli = await runCli(['reload', '--socket', socket]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^reload failed: invalid configuration/);
    assert.ok(cli.stderr.includes(`${file}:1:`), `file:line in ${cli.stderr}`);
    assert.match(cli.stderr, /keeping the current configuration/);
    const s = await status(socket);
    assert.equal(s.configVersion, 1);
    assert.deepEqual(await workerPids(), before);
  });

  test('a reload whose certificate is missing fails with file:line and keeps the old workers', { timeout: 8_000 }, async () => {
    const before = await workerPids();
    // Lines 4-9: the second listener, with a certificate that does not exist.
    const port = await freePort();
    const yaml = configYaml(options).replace(
      'upstreams:',
      `  - address: 127.0.0.1
    port: ${port}
    tls:
      certificates:
        - server_names: [a.test]
          cert: missing.crt
          key: missing.key
upstreams:`,
    );
    writeFileSync(file, yaml);
    const cli = await runCli(['reload', '--socket', socket]);
    assert.equal(cli.code, 1);
    assert.ok(cli.stderr.includes(`${file}:12:`) && cli.stderr.includes(`cannot read ${join(dir, 'missing.crt')}`), cli.stderr);
    assert.match(cli.stderr, /keeping the current configuration/);
    assert.equal((await status(socket)).configVersion, 1);
    assert.deepEqual(await workerPids(), before);
  });

  test('USR2 is logged and ignored by the primary and the workers', { timeout: 8_000 }, async () => {
    const before = await workerPids();
    process.kill(serve.pid, 'SIGUSR2');
    const line = await serve.waitForLog((l) => l.msg === 'USR2 (binary upgrade) is not supported yet; ignoring', 3_000);
    assert.equal(line.level, 40);
    process.kill(before.get(0)!, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(serve.child.exitCode, null, 'the primary runs on');
    assert.deepEqual(await workerPids(), before, 'no worker died');
    assert.equal((await get(`${listenUrl}/after-usr2`)).status, 200);
  });

  test('a reload replaces every worker, one at a time, without a failed request', { timeout: 40_000 }, async (t) => {
    writeFileSync(file, configYaml(options));
    const before = await workerPids();
    const traffic = load(listenUrl);
    await new Promise((r) => setTimeout(r, 200));
    const cli = await runCli(['reload', '--socket', socket]);
    await new Promise((r) => setTimeout(r, 200));
    const { ok, failures } = await traffic.stop();
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /reloaded: configuration version 2/);
    const s = await status(socket);
    assert.equal(s.configVersion, 2);
    assert.equal(s.workers.length, 2);
    for (const w of s.workers) {
      assert.ok(w.pid !== null && !Array.from(before.values()).includes(w.pid), `worker ${w.id} has a new pid`);
      seenPids.add(w.pid!);
      assert.equal(w.configVersion, 2);
      assert.equal(cpusAllowed(w.pid!), String(w.cpu));
    }
    assert.ok(ok > 0, 'requests were sent during the reload');
    if (readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1') {
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} requests failed`);
    } else {
      // Without tcp_migrate_req, Linux resets the connections still queued on an SO_REUSEPORT
      // socket when it closes: a few resets are the kernel's, anything else is ours.
      t.diagnostic(`net.ipv4.tcp_migrate_req=0: ${failures.length} of ${ok + failures.length} connections reset`);
      assert.ok(failures.length <= 5 && failures.every((f) => f.includes('ECONNRESET')), failures.join('\n'));
    }
  });

  test('a request in flight when its worker is replaced completes', { timeout: 10_000 }, async () => {
    const slow = get(`${listenUrl}/slow`);
    await new Promise((r) => setTimeout(r, 200));
    const before = await workerPids();
    const reply = await control(socket, { command: 'reload' });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.deepEqual(await slow, { status: 200, body: 'origin /slow' });
    for (const pid of (await workerPids()).values()) assert.ok(![...before.values()].includes(pid));
  });

  test('a reload can change the number of workers', { timeout: 40_000 }, async () => {
    writeFileSync(file, configYaml({ ...options, workers: 3 }));
    assert.equal((await control(socket, { command: 'reload' })).ok, true);
    const three = await status(socket);
    assert.deepEqual(three.workers.map((w) => [w.id, w.state]), [[0, 'ready'], [1, 'ready'], [2, 'ready']]);
    const w2 = three.workers[2];
    seenPids.add(w2.pid!);
    assert.equal(cpusAllowed(w2.pid!), String(w2.cpu));
    writeFileSync(file, configYaml(options));
    assert.equal((await control(socket, { command: 'reload' })).ok, true);
    const two = await status(socket);
    assert.deepEqual(two.workers.map((w) => w.id), [0, 1]);
    for (const w of two.workers) seenPids.add(w.pid!);
    assert.throws(() => process.kill(w2.pid!, 0), 'worker 2 is gone');
  });

  test('a second frontline on the same control socket refuses to start', { timeout: 8_000 }, async () => {
    const second = new Serve(['serve', '--config', file]);
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr, new RegExp(`another frontline is running with control socket ${socket}`));
    assert.ok(existsSync(socket), 'the running one keeps its socket');
  });

  test('`frontline stop --graceful` stops every worker and removes the socket', { timeout: 10_000 }, async () => {
    const pids = [...(await workerPids()).values()];
    const cli = await runCli(['stop', '--graceful', '--socket', socket]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'stopped');
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
    assert.ok(!existsSync(socket), 'socket removed');
    for (const pid of pids) assert.throws(() => process.kill(pid!, 0), `worker ${pid} is gone`);
  });
});

for (const distribution of ['shared', 'round-robin'] as const) {
  describe(`frontline serve (${distribution})`, () => {
    const dir = tempDir();
    const file = join(dir, 'frontline.yaml');
    const socket = join(dir, 'control.sock');
    let options: ConfigOptions;
    let origin: Awaited<ReturnType<typeof startOrigin>>;
    let serve: Serve;
    const seenPids = new Set<number>();

    before(async () => {
      origin = await startOrigin();
      options = { socket, distribution, listenPorts: [await freePort()], originPort: origin.port, metricsPort: await freePort() };
      writeFileSync(file, configYaml(options));
      serve = new Serve(['serve', '--config', file]);
      await serve.ready();
    });

    after(async () => {
      await serve.kill([...seenPids]);
      await origin.close();
    });

    test('a reload replaces every worker without a failed request', { timeout: 40_000 }, async () => {
      const before = await status(socket);
      for (const w of before.workers) seenPids.add(w.pid!);
      const traffic = load(`http://127.0.0.1:${options.listenPorts[0]}/`);
      await new Promise((r) => setTimeout(r, 200));
      const reply = await control(socket, { command: 'reload' });
      await new Promise((r) => setTimeout(r, 200));
      const { ok, failures } = await traffic.stop();
      assert.equal(reply.ok, true, JSON.stringify(reply));
      const s = await status(socket);
      for (const w of s.workers) {
        seenPids.add(w.pid!);
        assert.ok(!before.workers.some((b) => b.pid === w.pid), `worker ${w.id} replaced`);
      }
      assert.ok(ok > 0);
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} requests failed`);
    });

    test('a reload can add a listener', { timeout: 40_000 }, async () => {
      const added = await freePort();
      writeFileSync(file, configYaml({ ...options, listenPorts: [...options.listenPorts, added] }));
      const reply = await control(socket, { command: 'reload' });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal((await get(`http://127.0.0.1:${added}/new`)).body, 'origin /new');
      assert.equal((await get(`http://127.0.0.1:${options.listenPorts[0]}/old`)).body, 'origin /old');
      for (const w of (await status(socket)).workers) seenPids.add(w.pid!);
    });

    test('a reload can remove a listener: its socket closes with the last old worker', { timeout: 40_000 }, async () => {
      const first = options.listenPorts[0];
      const added = await freePort();
      writeFileSync(file, configYaml({ ...options, listenPorts: [added] }));
      const reply = await control(socket, { command: 'reload' });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal((await get(`http://127.0.0.1:${added}/`)).status, 200);
      await assert.rejects(get(`http://127.0.0.1:${first}/`), /ECONNREFUSED/);
      options = { ...options, listenPorts: [added] };
      for (const w of (await status(socket)).workers) seenPids.add(w.pid!);
    });

    test('a change of distribution is refused by reload, and says why', { timeout: 5_000 }, async () => {
      const before = await status(socket);
      writeFileSync(file, configYaml({ ...options, distribution: 'reuseport' }));
      const reply = await control(socket, { command: 'reload' });
      assert.equal(reply.ok, false);
      assert.match(String(reply.error), new RegExp(`distribution changes from ${distribution} to reuseport.*restart frontline`));
      const s = await status(socket);
      assert.equal(s.configVersion, before.configVersion);
      assert.deepEqual(s.workers.map((w) => w.pid), before.workers.map((w) => w.pid));
    });

    test('QUIT stops gracefully and exits 0', { timeout: 10_000 }, async () => {
      process.kill(serve.pid, 'SIGQUIT');
      assert.deepEqual(await serve.exited, { code: 0, signal: null });
      assert.ok(!existsSync(socket));
    });
  });
}

describe('frontline serve: crashing workers', () => {
  const dir = tempDir();
  const socket = join(dir, 'control.sock');
  const marker = join(dir, 'broken');
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let serve: Serve;
  let url = '';
  const seenPids = new Set<number>();

  before(async () => {
    origin = await startOrigin();
    // A plugin that throws outside any request on GET /crash, and refuses to load while `marker` exists.
    writeFileSync(
      join(dir, 'crashy.mjs'),
      `import { existsSync } from 'node:fs';
export default () => {
  if (existsSync(${JSON.stringify(marker)})) throw new Error('crashy refuses to load');
  return { name: 'crashy', request(ctx) { if (ctx.path === '/crash') setTimeout(() => { throw new Error('boom from a plugin'); }); } };
};
`,
    );
    const file = join(dir, 'frontline.yaml');
    const listen = await freePort();
    writeFileSync(
      file,
      configYaml({ socket, workers: 1, listenPorts: [listen], originPort: origin.port, metricsPort: await freePort(), extra: 'plugins:\n  - module: ./crashy.mjs\n' }),
    );
    serve = new Serve(['serve', '--config', file]);
    await serve.ready();
    url = `http://127.0.0.1:${listen}`;
  });

  after(async () => {
    await serve.kill([...seenPids]);
    await origin.close();
  });

  const readyWorker = (exceptPid?: number) =>
    until('worker 0 is ready', 6_000, async () => {
      const w = (await status(socket)).workers.find((w) => w.id === 0 && w.state === 'ready' && w.pid !== exceptPid);
      if (w?.pid) seenPids.add(w.pid);
      return w;
    });

  test('an uncaught exception ends the worker with a logged reason, and it is respawned', { timeout: 8_000 }, async () => {
    const before = await readyWorker();
    await get(`${url}/crash`).catch(() => undefined);
    const crash = await serve.waitForLog((l) => l.worker_pid === before.pid && l.code === 1, 5_000);
    assert.match(crash.msg!, /exited with code 1: uncaught exception: boom from a plugin; respawning in \d+ ms/);
    await readyWorker(before.pid!);
    assert.equal((await get(`${url}/after`)).body, 'origin /after');
  });

  test('a worker that cannot start again is retried with growing delays, without stopping serve', { timeout: 12_000 }, async () => {
    const before = await readyWorker();
    writeFileSync(marker, '');
    process.kill(before.pid!, 'SIGKILL');
    const retries = async (n: number) => {
      const lines = serve.lines.filter((l) => typeof l.msg === 'string' && /crashy refuses to load; trying again in \d+ ms/.test(l.msg));
      return lines.length >= n ? lines : undefined;
    };
    const lines = await until('three failed restarts', 8_000, () => retries(3));
    const delays = lines.map((l) => l.respawn_in_ms as number);
    assert.ok(delays[1] > delays[0] && delays[2] > delays[1], `delays grow: ${delays.join(', ')}`);
    const s = await status(socket);
    assert.ok(s.workers.some((w) => w.id === 0 && (w.state === 'respawning' || w.state === 'starting')));
    rmSync(marker);
    await readyWorker(before.pid!);
    assert.equal(serve.child.exitCode, null, 'serve keeps running');
  });
});

describe('frontline serve start-up', () => {
  test('workers: auto starts one worker per CPU this process may run on', { timeout: 10_000 }, async (t) => {
    if (!existsSync('/usr/bin/taskset') || cpusAllowed(process.pid).match(/^\d+$/)) return t.skip('needs taskset and more than one CPU');
    const dir = tempDir();
    const origin = await startOrigin();
    const file = join(dir, 'frontline.yaml');
    writeFileSync(file, configYaml({ socket: join(dir, 'c.sock'), listenPorts: [await freePort()], originPort: origin.port, metricsPort: await freePort() }).replace('workers: 2', 'workers: auto'));
    const firstCpu = cpusAllowed(process.pid).split(/[,-]/)[0];
    const serve = new Serve(['serve', '--config', file], { wrapper: ['taskset', '-c', firstCpu] });
    try {
      const ready = await serve.ready();
      assert.equal(ready.workers, 1);
    } finally {
      await serve.kill();
      await origin.close();
    }
  });

  test('serve refuses a configuration whose files are unusable, naming file:line', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    const file = join(dir, 'frontline.yaml');
    writeFileSync(file, configYaml({ socket: join(dir, 'c.sock'), listenPorts: [await freePort()], originPort: 1, metricsPort: await freePort(), extra: 'plugins:\n  - module: ./nowhere.ts\n' }));
    const serve = new Serve(['serve', '--config', file]);
    const { code } = await serve.exited;
    assert.equal(code, 1);
    assert.ok(serve.stderr.includes(`${file}:23:`) && serve.stderr.includes(`no such file: ${join(dir, 'nowhere.ts')}`), serve.stderr);
    assert.ok(!existsSync(join(dir, 'c.sock')), 'nothing was started');
  });

  test('proxy: --metrics moves the admin listener, --no-metrics turns it off', { timeout: 15_000 }, async () => {
    const dir = tempDir();
    const origin = await startOrigin();
    const env = { ...process.env, XDG_RUNTIME_DIR: dir };
    const metricsPort = await freePort();
    const args = ['proxy', '--listen', String(await freePort()), '--to', `http://127.0.0.1:${origin.port}`, '--workers', '1'];
    try {
      let serve = new Serve([...args, '--metrics', `127.0.0.1:${metricsPort}`], { env });
      try {
        const ready = await serve.ready();
        assert.equal(ready.metrics, `http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal((await get(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200);
      } finally {
        await serve.kill();
      }
      serve = new Serve([...args, '--no-metrics'], { env });
      try {
        const ready = await serve.ready();
        assert.equal(ready.metrics, null);
      } finally {
        await serve.kill();
      }
      const both = await runCli([...args, '--metrics', '9191', '--no-metrics']);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--metrics and --no-metrics exclude each other/);
    } finally {
      await origin.close();
    }
  });

  test('a port in use stops serve with the reason', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    const origin = await startOrigin();
    const file = join(dir, 'frontline.yaml');
    // The origin's own port is taken: the workers cannot listen on it.
    writeFileSync(file, configYaml({ socket: join(dir, 'c.sock'), listenPorts: [origin.port], originPort: origin.port, metricsPort: await freePort() }));
    const serve = new Serve(['serve', '--config', file]);
    try {
      const { code } = await serve.exited;
      assert.equal(code, 1);
      assert.match(serve.stderr, /frontline: cannot start: worker \d failed to start: .*(EADDRINUSE|already in use)/);
      assert.ok(!existsSync(join(dir, 'c.sock')), 'socket removed');
    } finally {
      await serve.kill();
      await origin.close();
    }
  });

  test('a stale control socket left by a dead process is replaced', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    const socket = join(dir, 'c.sock');
    // A process that listens on the socket and dies without removing it.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.ok(existsSync(socket));
    const origin = await startOrigin();
    const file = join(dir, 'frontline.yaml');
    writeFileSync(file, configYaml({ socket, workers: 1, listenPorts: [await freePort()], originPort: origin.port, metricsPort: await freePort() }));
    const serve = new Serve(['serve', '--config', file]);
    try {
      await serve.ready();
      const s = await status(socket);
      assert.equal(s.workers.length, 1);
      assert.equal(statSync(socket).mode & 0o777, 0o600);
    } finally {
      await serve.kill();
      await origin.close();
    }
  });
});
