// What one proxied request costs, measured so that two proxies (or two commits) can be compared
// on a noisy shared machine: CPU time per request rather than requests per second.
//
//   node_modules/.bin/node bench/proxy/cost.ts [--proxies frontline,minimal] [--bodies tiny,1k,60k]
//        [--rounds 5] [--duration 5] [--warmup S] [--warmup-requests N] [--connections 50] [--callgrind] [--json FILE]
//
// cpu (default): each proxy runs as the benchmark runs it (frontline serve, workers: 1, every
//   default feature on; the minimal node:http + undici peer), pinned to CPU 1; wrk and the nginx
//   origin on CPU 0. Every round measures every proxy once per body, the proxies alternating
//   (A B A B ...); a run is wrk -t1 -cN for --duration seconds after a 1 s warm-up, and its figure
//   is the utime + stime of the proxy's processes (/proc, threads included) divided by the
//   requests wrk completed. The medians over the rounds are printed.
// --callgrind: each proxy runs in one process under valgrind --tool=callgrind (frontline through
//   bench/proxy/single-worker.ts: the worker's request path without the primary). After a warm-up
//   of at least --warmup-requests (60000: until V8's optimised code has settled; callgrind counts
//   its compiler threads too) and a full garbage collection, the counters are zeroed (callgrind_control -z), wrk runs for --duration seconds, the counters
//   are dumped (callgrind_control -d), and the figure is the instructions executed (Ir, user
//   space, every thread) divided by the requests wrk completed. Deterministic to about 1 %.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BODIES, type BodyName, frontlineConfig, writeOriginConfig } from './configs.ts';
import { cpuMicros, freePort, killAllNow, processTree, start, stopAll, sysMicros, type Started } from './procs.ts';
import { killWrk, runWrk } from './wrk.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = process.execPath;
const LOAD_CPU = '0';
const PROXY_CPU = '1';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const proxies = opt('proxies', 'frontline,minimal').split(',');
const bodies = opt('bodies', 'tiny,1k,60k').split(',') as BodyName[];
const callgrind = argv.includes('--callgrind');
const rounds = Number(opt('rounds', callgrind ? '3' : '5'));
const duration = Number(opt('duration', callgrind ? '20' : '5'));
const connections = Number(opt('connections', '50'));
const warmup = Number(opt('warmup', callgrind ? '60' : '5'));
const warmupRequests = Number(opt('warmup-requests', callgrind ? '60000' : '0'));
const jsonFile = argv.includes('--json') ? opt('json', '') : '';
// "frontline@DIR" runs the frontline checked out in DIR (another commit, for before/after figures).
for (const p of proxies) if (p !== 'frontline' && p !== 'minimal' && !p.startsWith('frontline@')) throw new Error(`unknown proxy ${p} (frontline, frontline@DIR, minimal)`);
for (const b of bodies) if (!(b in BODIES)) throw new Error(`unknown body ${b}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function get(url: string): Promise<number> {
  return new Promise((resolveGet, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolveGet(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitReady(url: string, proc: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited) throw new Error(`${proc.name} exited: ${readFileSync(proc.logFile, 'utf8').slice(-2000)}`);
    try {
      if ((await get(url)) === 200) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms`);
}

const dir = mkdtempSync(join(tmpdir(), 'frontline-cost-'));
process.on('exit', () => {
  killWrk();
  killAllNow();
  rmSync(dir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

const originPort = await freePort();
const originConf = writeOriginConfig(dir, originPort);
const origin = start('origin', LOAD_CPU, 'nginx', ['-p', dir, '-e', join(dir, 'origin-error.log'), '-c', originConf], join(dir, 'origin.out'));
await waitReady(`http://127.0.0.1:${originPort}/`, origin, 10_000);

interface Running {
  name: string;
  port: number;
  proc: Started;
}

async function startProxy(name: string): Promise<Running> {
  const port = await freePort();
  const metricsPort = await freePort();
  const valgrind = ['--tool=callgrind', '--dump-instr=no', `--callgrind-out-file=${join(dir, `cg-${name.replace(/[^A-Za-z0-9]+/g, '-')}.%p`)}`];
  let cmd: string[];
  if (name.startsWith('frontline')) {
    const root = name === 'frontline' ? ROOT : resolve(name.slice('frontline@'.length));
    const file = name.replace(/[^A-Za-z0-9]+/g, '-');
    const cfg = frontlineConfig(dir, { name: file, workers: 1, distribution: 'reuseport', port, metricsPort, originPort });
    cmd = callgrind
      ? [NODE, '--expose-gc', join(root, 'bench/proxy/single-worker.ts'), cfg.file]
      : [NODE, join(root, 'src/cli/main.ts'), 'serve', '--config', cfg.file];
  } else {
    const script = join(ROOT, 'bench/proxy/peers/minimal.ts');
    cmd = [NODE, ...(callgrind ? ['--expose-gc'] : []), script, '--port', String(port), '--origin', `http://127.0.0.1:${originPort}`, '--connections', '64'];
  }
  if (callgrind) cmd = ['valgrind', ...valgrind, ...cmd];
  const proc = start(name, PROXY_CPU, cmd[0], cmd.slice(1), join(dir, `${name.replace(/[^A-Za-z0-9]+/g, '-')}.out`));
  await waitReady(`http://127.0.0.1:${port}/`, proc, callgrind ? 180_000 : 30_000);
  return { name, port, proc };
}

/** The newest callgrind dump of `pid` and its total instruction count. */
function dumpedInstructions(name: string, pid: number): number {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`cg-${name.replace(/[^A-Za-z0-9]+/g, '-')}.${pid}`))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const text = readFileSync(files[0], 'utf8');
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${files[0]}`);
  return Number(m[1]);
}

const warmed = new Set<string>();

async function measure(p: Running, body: BodyName): Promise<{ value: number; sys?: number; requests: number; rps: number }> {
  const url = `http://127.0.0.1:${p.port}${BODIES[body].path}`;
  // The first run of a proxy and body warms it up for `warmup` seconds (under valgrind, V8 needs
  // tens of thousands of requests before its optimised code settles); later runs for 1 s.
  const key = `${p.name} ${body}`;
  let warm = 0;
  if (warmed.has(key)) warm = (await runWrk({ url, connections, seconds: 1, cpus: LOAD_CPU, timeoutSeconds: 10 })).requests;
  else {
    // At least `warmup` seconds and `warmupRequests` requests (V8 optimises by calls, not by time).
    const until = Date.now() + warmup * 1000;
    while (Date.now() < until || warm < warmupRequests) warm += (await runWrk({ url, connections, seconds: 10, cpus: LOAD_CPU, timeoutSeconds: 10 })).requests;
    warmed.add(key);
  }
  console.error(`${key}: warm-up ${warm} requests`);
  if (callgrind) {
    // A full collection first, so that the window does not pay for garbage made before it.
    process.kill(p.proc.pid, 'SIGUSR2');
    await sleep(5000);
    execFileSync('callgrind_control', ['-z', String(p.proc.pid)], { stdio: 'ignore' });
    const r = await runWrk({ url, connections, seconds: duration, cpus: LOAD_CPU, timeoutSeconds: 10 });
    execFileSync('callgrind_control', ['-d', String(p.proc.pid)], { stdio: 'ignore' });
    await sleep(500);
    // A request or two may time out while valgrind writes the dump.
    if (r.errors > r.requests / 100) throw new Error(`${p.name} ${body}: ${r.errors} errors`);
    return { value: dumpedInstructions(p.name, p.proc.pid) / r.requests, requests: r.requests, rps: r.rps };
  }
  const tree = processTree(p.proc.pid);
  const cpu0 = cpuMicros(tree);
  const sys0 = sysMicros(tree);
  const r = await runWrk({ url, connections, seconds: duration, cpus: LOAD_CPU });
  const cpu1 = cpuMicros(tree);
  const sys1 = sysMicros(tree);
  if (r.errors > 0) throw new Error(`${p.name} ${body}: ${r.errors} errors`);
  return { value: (cpu1 - cpu0) / r.requests, sys: (sys1 - sys0) / r.requests, requests: r.requests, rps: r.rps };
}

const unit = callgrind ? 'instructions/request' : 'CPU µs/request';
const running: Running[] = [];
for (const name of proxies) running.push(await startProxy(name));
const results = new Map<string, number[]>();
const sysResults = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  // Alternate the order each round so neither proxy always runs first.
  const order = round % 2 === 0 ? running : [...running].reverse();
  for (const body of bodies) {
    for (const p of order) {
      const m = await measure(p, body);
      const key = `${p.name} ${body}`;
      results.set(key, [...(results.get(key) ?? []), m.value]);
      const line = { type: 'run', mode: callgrind ? 'callgrind' : 'cpu', round, proxy: p.name, body, value: m.value, sys_us: m.sys, requests: m.requests, rps: m.rps };
      if (m.sys !== undefined) sysResults.set(key, [...(sysResults.get(key) ?? []), m.sys]);
      console.error(JSON.stringify(line));
      if (jsonFile) appendFileSync(jsonFile, `${JSON.stringify(line)}\n`);
    }
  }
}
console.log(`\n${unit} (median of ${rounds} round${rounds === 1 ? '' : 's'}, wrk -t1 -c${connections} -d${duration}s)\n`);
console.log(`| body | ${proxies.join(' | ')} |${proxies.length === 2 ? ` ${proxies[1]} ÷ ${proxies[0]} |` : ''}`);
console.log(`|---|${proxies.map(() => '---:|').join('')}${proxies.length === 2 ? '---:|' : ''}`);
for (const body of bodies) {
  const v = proxies.map((p) => median(results.get(`${p} ${body}`) ?? [NaN]));
  const fmt = (x: number) => (callgrind ? `${Math.round(x / 1000)} k` : x.toFixed(1));
  console.log(`| ${body} | ${v.map(fmt).join(' | ')} |${v.length === 2 ? ` ${(v[1] / v[0]).toFixed(2)}× |` : ''}`);
}
if (!callgrind) {
  console.log(`\nof which in the kernel (stime), µs/request (median)\n`);
  for (const body of bodies) console.log(`| ${body} | ${proxies.map((p) => median(sysResults.get(`${p} ${body}`) ?? [NaN]).toFixed(1)).join(' | ')} |`);
}
if (proxies.length === 2) {
  // The two proxies of one round ran seconds apart, under the same load from the machine's other
  // tenants: the ratio within a round is steadier than either figure alone.
  console.log(`\n${proxies[1]} ÷ ${proxies[0]} per round (median; every round)\n`);
  for (const body of bodies) {
    const a = results.get(`${proxies[0]} ${body}`) ?? [];
    const b = results.get(`${proxies[1]} ${body}`) ?? [];
    const ratios = a.map((x, i) => b[i] / x);
    console.log(`| ${body} | ${median(ratios).toFixed(2)}× | ${ratios.map((r) => r.toFixed(2)).join(' ')} |`);
  }
}
await stopAll();
process.exit(0);
