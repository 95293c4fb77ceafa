// The proxy benchmark: frontline beside nginx, HAProxy and Node peers, measured in one run.
//
//   node_modules/.bin/node bench/proxy/run.ts [--rounds N] [--duration S] [--warmup S]
//        [--only name,name] [--bodies tiny,1k,60k] [--json FILE] [--connections N]
//        [--load-cpu 0] [--proxy-cpu 1] [--peer-logs on|off] [--keep]
//
// Layout (2 CPUs): wrk, the nginx origin and this harness on CPU 0; the proxy under test on CPU 1
// (taskset). The frontline 2-worker modes are not pinned (they may use both CPUs) and are there
// to show how connections spread over workers, not for throughput. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BODIES,
  type BodyName,
  frontlineConfig,
  writeHaproxyConfig,
  writeNginxProxyConfig,
  writeOriginConfig,
} from './configs.ts';
import { cpuJiffies, cpuMicros, freePort, median, processTree, rssKiB, sleep, start, stop, tail, versionOf, type Started } from './procs.ts';
import { runWrk, type WrkResult } from './wrk.ts';
import { runBenchmark, type BenchRun } from './lifecycle.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  only?: string[];
  bodies: BodyName[];
  json?: string;
  loadCpus: string;
  proxyCpus: string;
  peerLogs: boolean;
  keep: boolean;
}

const ALL_PROXIES = [
  'nginx',
  'haproxy',
  'frontline',
  'frontline-2w-reuseport',
  'frontline-2w-round-robin',
  'frontline-2w-shared',
  'minimal',
  'fastify',
  'http-proxy',
] as const;
type ProxyName = (typeof ALL_PROXIES)[number];

function usage(): never {
  console.log(`usage: node_modules/.bin/node bench/proxy/run.ts [options]
  --rounds N          alternating rounds; medians are reported (default 3, env BENCH_ROUNDS)
  --duration S        measured seconds per run (default 5, env BENCH_DURATION)
  --warmup S          discarded warm-up seconds before each run (default 2, env BENCH_WARMUP)
  --connections N     wrk connections (default 50; wrk always uses one thread)
  --only a,b          proxies: ${ALL_PROXIES.join(', ')}
                      ("frontline-2w" selects the three 2-worker modes)
  --bodies a,b        bodies: ${Object.keys(BODIES).join(', ')} (default all)
  --json FILE         also write JSON lines (meta, one per run, one summary per proxy/body)
  --load-cpu LIST     CPUs for wrk, the origin and the harness (default 0)
  --proxy-cpu LIST    CPU for the proxy under test (default 1)
  --peer-logs on|off  nginx/HAProxy access logs to a file (default on; frontline's is always on)
  --keep              keep the temp dir (configs, logs) after the run`);
  process.exit(0);
}

function parseOptions(argv: string[]): Options {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  if (argv.includes('--help') || argv.includes('-h')) usage();
  const known = new Set(['rounds', 'duration', 'warmup', 'connections', 'only', 'bodies', 'json', 'load-cpu', 'proxy-cpu', 'peer-logs', 'keep', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) throw new Error(`unknown option ${a} (--help lists them)`);
  const int = (name: string, env: string, fallback: number, min: number): number => {
    const raw = opt(name) ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (wrk takes whole seconds)`);
    return n;
  };
  const nCpus = availableParallelism();
  const pinned = nCpus >= 2;
  let only: string[] | undefined;
  const onlyRaw = opt('only');
  if (onlyRaw) {
    only = [];
    for (const t of onlyRaw.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (t === 'frontline-2w') only.push(...ALL_PROXIES.filter((p) => p.startsWith('frontline-2w')));
      else if ((ALL_PROXIES as readonly string[]).includes(t)) only.push(t);
      else throw new Error(`--only: unknown proxy "${t}"; known: ${ALL_PROXIES.join(', ')}, frontline-2w`);
    }
  }
  const bodies = (opt('bodies') ?? Object.keys(BODIES).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as BodyName[];
  for (const b of bodies) if (!(b in BODIES)) throw new Error(`--bodies: unknown body "${b}"; known: ${Object.keys(BODIES).join(', ')}`);
  const peerLogs = opt('peer-logs') ?? 'on';
  if (peerLogs !== 'on' && peerLogs !== 'off') throw new Error('--peer-logs is on or off');
  return {
    rounds: int('rounds', 'BENCH_ROUNDS', 3, 1),
    duration: int('duration', 'BENCH_DURATION', 5, 1),
    warmup: int('warmup', 'BENCH_WARMUP', 2, 0),
    connections: int('connections', 'BENCH_CONNECTIONS', 50, 1),
    only,
    bodies,
    json: opt('json'),
    loadCpus: opt('load-cpu') ?? (pinned ? '0' : ''),
    proxyCpus: opt('proxy-cpu') ?? (pinned ? '1' : ''),
    peerLogs: peerLogs === 'on',
    keep: argv.includes('--keep'),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/** One GET with a fresh connection (no pooled socket left open to the proxy during the runs). */
function get(url: string, timeoutMs = 2000): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Waits until `base/` answers 200 and every body has the expected size, or throws. */
async function waitReady(base: string, proc: Started | undefined, timeoutMs: number, bodies: BodyName[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc?.exited) throw new Error(`exited (code ${proc.exitCode}) before answering`);
    try {
      const r = await get(`${base}/`, 1000);
      if (r.status === 200) {
        for (const b of bodies) {
          const { path, bytes } = BODIES[b];
          const x = await get(`${base}${path}`);
          if (x.status !== 200 || x.body.length !== bytes) {
            throw new Error(`GET ${path} gave ${x.status} with ${x.body.length} bytes, expected 200 with ${bytes}`);
          }
        }
        return;
      }
      last = `GET / answered ${r.status}`;
    } catch (e) {
      const msg = (e as Error).message;
      if (msg.startsWith('GET ')) throw e;
      last = msg;
    }
    await sleep(100);
  }
  throw new Error(`not ready after ${timeoutMs} ms (${last})`);
}

function missingTools(): string[] {
  const has = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return ['wrk', 'nginx', 'haproxy', 'taskset'].filter((c) => !has(c));
}

// ---------------------------------------------------------------------------------------------
// The proxies

interface Proxy {
  name: ProxyName;
  /** What is started, as shown in the notes. */
  describe: string;
  /** CPUs it is pinned to ("" = not pinned). */
  cpus: string;
  port: number;
  proc?: Started;
  skip?: string;
  /** Access log file, truncated after each run (bytes written are recorded). */
  accessLog?: string;
  /** Per-worker counters (frontline), read before and after each run. */
  workerCounts?: () => Promise<WorkerCount[] | undefined>;
  start: () => Promise<void>;
}

interface WorkerCount {
  id: string;
  requests?: number;
  connections?: number;
}

/**
 * Per-worker counters from frontline's status JSON. Its exact shape is frontline's business; this
 * looks for an array of workers and, in each, numeric fields that count requests and connections
 * (totals preferred over gauges such as "active").
 */
export function extractWorkerCounts(status: unknown): WorkerCount[] | undefined {
  const findWorkers = (v: unknown, depth: number): unknown[] | undefined => {
    if (!v || typeof v !== 'object' || depth > 3) return undefined;
    if (Array.isArray(v)) return undefined;
    for (const [k, x] of Object.entries(v)) {
      if (/^workers$/i.test(k) && Array.isArray(x)) return x;
    }
    for (const x of Object.values(v)) {
      const w = findWorkers(x, depth + 1);
      if (w) return w;
    }
    return undefined;
  };
  const workers = findWorkers(status, 0);
  if (!workers) return undefined;
  const flatten = (v: unknown, prefix: string, out: [string, number][]) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    } else if (typeof v === 'number') {
      out.push([prefix, v]);
    }
  };
  const pick = (fields: [string, number][], re: RegExp): number | undefined => {
    const gauge = /active|open|current|inflight|in_flight|inFlight|rate|per_?s|pending|queue/i;
    const candidates = fields.filter(([k]) => re.test(k) && !gauge.test(k));
    const total = candidates.find(([k]) => /total|accepted|handled|served/i.test(k));
    return (total ?? candidates[0])?.[1];
  };
  return workers.map((w, i) => {
    const fields: [string, number][] = [];
    flatten(w, '', fields);
    const o = (w ?? {}) as Record<string, unknown>;
    const id = String(o.id ?? o.index ?? o.worker ?? o.pid ?? i);
    // frontline's WorkerStatus names them `requests` and `connectionsAccepted`; the patterns are a
    // fallback should the report change shape.
    const exact = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
    return {
      id,
      requests: exact('requests') ?? pick(fields, /request/i),
      connections: exact('connectionsAccepted') ?? pick(fields, /conn/i),
    };
  });
}

function makeProxies(dir: string, o: Options, originPort: number, ports: Map<ProxyName, number>, metricsPorts: Map<ProxyName, number>): Proxy[] {
  const origin = `http://127.0.0.1:${originPort}`;
  const list: Proxy[] = [];
  const log = (name: string) => join(dir, `${name}.out`);

  const nginx: Proxy = {
    name: 'nginx',
    describe: 'nginx, master_process on + 1 worker, upstream keepalive 64, access_log ' + (o.peerLogs ? 'to a file (combined, buffer=64k)' : 'off'),
    cpus: o.proxyCpus,
    port: ports.get('nginx')!,
    accessLog: o.peerLogs ? join(dir, 'nginx-access.log') : undefined,
    async start() {
      const conf = writeNginxProxyConfig(dir, this.port, originPort, o.peerLogs);
      this.proc = start('nginx', this.cpus, 'nginx', ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', conf], log('nginx'));
    },
  };
  const haproxy: Proxy = {
    name: 'haproxy',
    describe: 'HAProxy, nbthread 1, http-reuse always, access log ' + (o.peerLogs ? 'to stdout → file (option httplog)' : 'off'),
    cpus: o.proxyCpus,
    port: ports.get('haproxy')!,
    accessLog: o.peerLogs ? log('haproxy') : undefined,
    async start() {
      const conf = writeHaproxyConfig(dir, this.port, originPort, o.peerLogs);
      this.proc = start('haproxy', this.cpus, 'haproxy', ['-db', '-f', conf], log('haproxy'));
    },
  };
  list.push(nginx, haproxy);

  const frontlineMain = join(ROOT, 'src/cli/main.ts');
  const frontline = (name: ProxyName, workers: number, distribution: 'reuseport' | 'round-robin' | 'shared'): Proxy => {
    const p: Proxy = {
      name,
      describe:
        workers === 1
          ? 'frontline, workers: 1, cpu_affinity: none (pinned by taskset), access log to a file, metrics on'
          : `frontline, workers: 2, distribution: ${distribution}, not pinned, access log to a file, metrics on`,
      cpus: workers === 1 ? o.proxyCpus : '',
      port: ports.get(name)!,
      async start() {
        if (!existsSync(frontlineMain)) {
          this.skip = 'src/cli/main.ts does not exist yet (frontline is not built); skipped';
          return;
        }
        const metricsPort = metricsPorts.get(name)!;
        const cfg = frontlineConfig(dir, { name, workers, distribution, port: this.port, metricsPort, originPort });
        this.accessLog = cfg.accessLog;
        // Reset the affinity to all CPUs for the unpinned modes (the harness itself is pinned).
        const cpusArg = this.cpus || (o.proxyCpus && o.loadCpus ? `${o.loadCpus},${o.proxyCpus}` : '');
        this.proc = start(name, cpusArg, NODE, [frontlineMain, 'serve', '--config', cfg.file], log(name));
        if (workers > 1) {
          this.workerCounts = async () => {
            try {
              const r = await get(`http://127.0.0.1:${metricsPort}/status`, 2000);
              if (r.status === 200) {
                const counts = extractWorkerCounts(JSON.parse(r.body.toString('utf8')));
                if (counts) return counts;
              }
            } catch {
              // fall back to the control socket
            }
            try {
              const out = execFileSync(NODE, [frontlineMain, 'status', '--json', '--socket', cfg.controlSocket], {
                encoding: 'utf8',
                timeout: 5000,
                stdio: ['ignore', 'pipe', 'ignore'],
              });
              return extractWorkerCounts(JSON.parse(out));
            } catch {
              return undefined;
            }
          };
        }
      },
    };
    return p;
  };
  list.push(
    frontline('frontline', 1, 'reuseport'),
    frontline('frontline-2w-reuseport', 2, 'reuseport'),
    frontline('frontline-2w-round-robin', 2, 'round-robin'),
    frontline('frontline-2w-shared', 2, 'shared'),
  );

  const peer = (name: ProxyName, file: string, describe: string): Proxy => ({
    name,
    describe,
    cpus: o.proxyCpus,
    port: ports.get(name)!,
    async start() {
      const script = join(ROOT, 'bench/proxy/peers', file);
      this.proc = start(name, this.cpus, NODE, [script, '--port', String(this.port), '--origin', origin, '--connections', '64'], log(name));
    },
  });
  list.push(
    peer('minimal', 'minimal.ts', `node:http + undici ${packageVersion('undici')} Pool (64 connections), no logs`),
    peer('fastify', 'fastify.ts', `fastify ${packageVersion('fastify')} + @fastify/http-proxy ${packageVersion('@fastify/http-proxy')} (undici, 64 connections), logger off`),
    peer('http-proxy', 'http-proxy.ts', `http-proxy ${packageVersion('http-proxy')} + http.Agent keepAlive (64 sockets), no logs`),
  );
  return list.filter((p) => !o.only || o.only.includes(p.name));
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Run {
  type: 'run';
  round: number;
  proxy: string;
  body: BodyName;
  rps: number;
  requests: number;
  seconds: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  cpu_us_per_req: number;
  /** Proxy CPU time / wall time, in % of one CPU (≈100 on one pinned CPU: the proxy was the bottleneck). */
  proxy_cpu_pct: number;
  /** Busy share of the load CPU (wrk + origin) during the run. */
  load_cpu_pct: number | null;
  rss_idle_kib: number;
  rss_peak_kib: number;
  rss_after_kib: number;
  processes: number;
  access_log_bytes: number | null;
  worker_requests?: Record<string, number>;
  worker_connections?: Record<string, number>;
}

function diffCounts(before: WorkerCount[] | undefined, after: WorkerCount[] | undefined, key: 'requests' | 'connections') {
  if (!after) return undefined;
  const out: Record<string, number> = {};
  let any = false;
  for (const w of after) {
    const a = w[key];
    if (a === undefined) continue;
    const b = before?.find((x) => x.id === w.id)?.[key] ?? 0;
    out[w.id] = a - b;
    any = true;
  }
  return any ? out : undefined;
}

async function measure(p: Proxy, body: BodyName, round: number, o: Options): Promise<Run> {
  const url = `http://127.0.0.1:${p.port}${BODIES[body].path}`;
  const pid = p.proc!.pid;
  let tree = processTree(pid);
  if (p.accessLog && existsSync(p.accessLog)) truncateSync(p.accessLog, 0);
  const rssIdle = rssKiB(tree);
  let peak = rssIdle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKiB(tree));
  }, 100);
  try {
    if (o.warmup > 0) await runWrk({ url, connections: o.connections, seconds: o.warmup, cpus: o.loadCpus });
    tree = processTree(pid);
    const countsBefore = p.workerCounts ? await p.workerCounts() : undefined;
    const loadCpu = o.loadCpus ? Number(o.loadCpus.split(/[,-]/)[0]) : -1;
    const j0 = loadCpu >= 0 ? cpuJiffies(loadCpu) : undefined;
    const cpu0 = cpuMicros(tree);
    const t0 = process.hrtime.bigint();
    const r: WrkResult = await runWrk({ url, connections: o.connections, seconds: o.duration, cpus: o.loadCpus });
    const t1 = process.hrtime.bigint();
    const cpu1 = cpuMicros(tree);
    const j1 = loadCpu >= 0 ? cpuJiffies(loadCpu) : undefined;
    const rssAfter = rssKiB(tree);
    peak = Math.max(peak, rssAfter);
    const countsAfter = p.workerCounts ? await p.workerCounts() : undefined;
    const wallUs = Number(t1 - t0) / 1000;
    // Bytes the access log grew by during warm-up + run (a buffered tail may be missing): it shows
    // the log was really written. The file was truncated before the warm-up so that a long
    // benchmark does not fill the disk (the writers append, so truncating is safe).
    // Allocated blocks, not the size: HAProxy's stdout loses O_APPEND (it sets O_NONBLOCK), so
    // after a truncation it writes at its old offset and the file is sparse.
    const accessLogBytes = p.accessLog && existsSync(p.accessLog) ? statSync(p.accessLog).blocks * 512 : null;
    return {
      type: 'run',
      round,
      proxy: p.name,
      body,
      rps: r.rps,
      requests: r.requests,
      seconds: r.seconds,
      p50_ms: r.p50ms,
      p99_ms: r.p99ms,
      errors: r.errors,
      cpu_us_per_req: r.requests > 0 ? (cpu1 - cpu0) / r.requests : NaN,
      proxy_cpu_pct: (100 * (cpu1 - cpu0)) / wallUs,
      load_cpu_pct: j0 && j1 && j1.total > j0.total ? (100 * (j1.busy - j0.busy)) / (j1.total - j0.total) : null,
      rss_idle_kib: rssIdle,
      rss_peak_kib: peak,
      rss_after_kib: rssAfter,
      processes: tree.length,
      access_log_bytes: accessLogBytes,
      worker_requests: diffCounts(countsBefore, countsAfter, 'requests'),
      worker_connections: diffCounts(countsBefore, countsAfter, 'connections'),
    };
  } finally {
    clearInterval(sampler);
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

interface Summary {
  type: 'summary';
  proxy: string;
  body: BodyName;
  rounds: number;
  rps: number;
  vs_nginx: number | null;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_req: number;
  proxy_cpu_pct: number;
  load_cpu_pct: number | null;
  rss_idle_mib: number;
  rss_peak_mib: number;
  errors: number;
  worker_requests?: Record<string, number>;
  worker_connections?: Record<string, number>;
}

function sumCounts(runs: Run[], key: 'worker_requests' | 'worker_connections'): Record<string, number> | undefined {
  let out: Record<string, number> | undefined;
  for (const r of runs) {
    const counts = r[key];
    if (!counts) continue;
    out ??= {};
    for (const [id, n] of Object.entries(counts)) out[id] = (out[id] ?? 0) + n;
  }
  return out;
}

function summarise(runs: Run[], proxies: Proxy[], bodies: BodyName[]): Summary[] {
  const out: Summary[] = [];
  for (const body of bodies) {
    const nginxRps = median(runs.filter((r) => r.proxy === 'nginx' && r.body === body).map((r) => r.rps));
    for (const p of proxies) {
      const rs = runs.filter((r) => r.proxy === p.name && r.body === body);
      if (rs.length === 0) continue;
      const rps = median(rs.map((r) => r.rps));
      const load = rs.map((r) => r.load_cpu_pct).filter((x): x is number => x !== null);
      out.push({
        type: 'summary',
        proxy: p.name,
        body,
        rounds: rs.length,
        rps,
        vs_nginx: Number.isFinite(nginxRps) && nginxRps > 0 ? rps / nginxRps : null,
        p50_ms: median(rs.map((r) => r.p50_ms)),
        p99_ms: median(rs.map((r) => r.p99_ms)),
        cpu_us_per_req: median(rs.map((r) => r.cpu_us_per_req)),
        proxy_cpu_pct: median(rs.map((r) => r.proxy_cpu_pct)),
        load_cpu_pct: load.length ? median(load) : null,
        rss_idle_mib: median(rs.map((r) => r.rss_idle_kib)) / 1024,
        rss_peak_mib: median(rs.map((r) => r.rss_peak_kib)) / 1024,
        errors: rs.reduce((a, r) => a + r.errors, 0),
        worker_requests: sumCounts(rs, 'worker_requests'),
        worker_connections: sumCounts(rs, 'worker_connections'),
      });
    }
  }
  return out;
}

function table(rows: string[][], rightAlign: boolean[]): string {
  const full = rows.filter((r) => r.length > 1);
  const widths = rows[0].map((_, i) => Math.max(...full.map((r) => r[i].length)));
  return rows
    .map((r) => (r.length === 1 ? r[0] : r.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()))
    .join('\n');
}

function printSummary(summaries: Summary[], o: Options): void {
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  const head = ['proxy', 'body', 'req/s', 'vs nginx', 'p50 ms', 'p99 ms', 'CPU µs/req', 'proxy CPU', `load CPU`, 'RSS idle/peak MiB', 'errors'];
  const rows: string[][] = [head];
  let lastBody = '';
  for (const s of summaries) {
    if (lastBody && s.body !== lastBody) rows.push(['']);
    lastBody = s.body;
    rows.push([
      s.proxy,
      s.body,
      Math.round(s.rps).toString(),
      s.vs_nginx === null ? '-' : s.vs_nginx.toFixed(2),
      ms(s.p50_ms),
      ms(s.p99_ms),
      s.cpu_us_per_req.toFixed(1),
      `${Math.round(s.proxy_cpu_pct)}%`,
      s.load_cpu_pct === null ? '-' : `${Math.round(s.load_cpu_pct)}%`,
      `${s.rss_idle_mib.toFixed(1)} / ${s.rss_peak_mib.toFixed(1)}`,
      String(s.errors),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.filter((r) => r.length > 1).map((r) => r[i].length)));
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = table(rows, [false, false, true, true, true, true, true, true, true, true, true]).split('\n');
  out.splice(1, 0, sep);
  console.log(`\nMedians of ${o.rounds} round(s); ${o.duration} s measured after ${o.warmup} s warm-up; wrk -t 1 -c ${o.connections}.`);
  console.log(out.join('\n'));
  console.log(
    `\nproxy CPU: the proxy's CPU time over wall time (100% = one CPU busy; below ~90% on a pinned proxy means it was not the bottleneck).` +
      `\nload CPU: busy share of CPU ${o.loadCpus || '(unpinned)'} (wrk + origin + harness); near 100% means the load side limited the result.` +
      `\nRSS: all processes of the proxy summed (nginx master + worker, frontline primary + workers); idle = just before the warm-up, peak = sampled every 100 ms.`,
  );
  const withWorkers = summaries.filter((s) => s.worker_requests || s.worker_connections);
  if (withWorkers.length > 0) {
    console.log('\nPer worker (frontline status, measured runs summed over the rounds): requests (share), connections accepted');
    for (const s of withWorkers) {
      const ids = [...new Set([...Object.keys(s.worker_requests ?? {}), ...Object.keys(s.worker_connections ?? {})])];
      const total = Object.values(s.worker_requests ?? {}).reduce((a, n) => a + n, 0) || 1;
      const cells = ids.map((id) => {
        const req = s.worker_requests?.[id];
        const conns = s.worker_connections?.[id];
        return `worker ${id}: ${req ?? '?'} req (${req === undefined ? '?' : Math.round((100 * req) / total)}%), ${conns ?? '?'} conns`;
      });
      console.log(`  ${s.proxy.padEnd(26)} ${s.body.padEnd(5)} ${cells.join('   ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(run: BenchRun): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  run.keepTempDir = o.keep;

  const missing = missingTools();
  if (missing.length > 0) {
    console.log(`bench/proxy: ${missing.join(', ')} missing; running bench/proxy/install.sh`);
    try {
      execFileSync('bash', [join(ROOT, 'bench/proxy/install.sh')], { stdio: 'inherit' });
    } catch {
      console.error('bench/proxy: cannot run without them (see above). Nothing was measured.');
      process.exitCode = 1;
      return;
    }
  }

  const nCpus = availableParallelism();
  if (!o.loadCpus || !o.proxyCpus) console.log(`note: ${nCpus} CPU(s) available: nothing is pinned; results are noisier.`);
  if (o.loadCpus) {
    // The harness (and everything it starts without its own taskset) stays on the load CPU.
    execFileSync('taskset', ['-a', '-p', '-c', o.loadCpus, String(process.pid)], { stdio: 'ignore' });
  }

  const tmpDir = (run.tempDir = mkdtempSync(join(tmpdir(), 'frontline-bench-proxy-')));
  const originPort = await freePort();
  const ports = new Map<ProxyName, number>();
  const metricsPorts = new Map<ProxyName, number>();
  for (const name of ALL_PROXIES) ports.set(name, await freePort());
  for (const name of ALL_PROXIES) if (name.startsWith('frontline')) metricsPorts.set(name, await freePort());

  // The origin.
  const originConf = writeOriginConfig(tmpDir, originPort);
  const origin = start('origin', o.loadCpus, 'nginx', ['-p', tmpDir, '-e', join(tmpDir, 'origin-error.log'), '-c', originConf], join(tmpDir, 'origin.out'));
  try {
    await waitReady(`http://127.0.0.1:${originPort}`, origin, 10_000, o.bodies);
  } catch (e) {
    throw new Error(`the nginx origin did not start: ${(e as Error).message}\n${tail(join(tmpDir, 'origin-error.log'))}\n${tail(origin.logFile)}`);
  }

  // The proxies: all started up front and kept running, so that rounds alternate between them.
  const proxies = makeProxies(tmpDir, o, originPort, ports, metricsPorts);
  for (const p of proxies) {
    try {
      await p.start();
      if (p.skip) continue;
      await waitReady(`http://127.0.0.1:${p.port}`, p.proc, p.name.startsWith('frontline') ? 20_000 : 10_000, o.bodies);
    } catch (e) {
      p.skip = `did not start: ${(e as Error).message}\n    ${tail(p.proc?.logFile ?? '', 8).replaceAll('\n', '\n    ')}`;
      if (p.proc) await stop(p.proc);
    }
  }
  const active = proxies.filter((p) => !p.skip);
  for (const p of proxies.filter((x) => x.skip)) console.log(`skip ${p.name}: ${p.skip}`);
  if (active.length === 0) throw new Error('no proxy to measure');

  const runsPerRound = active.length * o.bodies.length;
  const estimate = o.rounds * runsPerRound * (o.warmup + o.duration + 0.3);
  console.log(`bench/proxy: ${active.map((p) => p.name).join(', ')} × ${o.bodies.join(', ')} × ${o.rounds} round(s)` + ` ≈ ${Math.ceil(estimate / 60)} min`);
  console.log(`layout: wrk + origin (nginx :${originPort}) + harness on CPU ${o.loadCpus || '-'}; proxy on CPU ${o.proxyCpus || '-'}; 2-worker frontline unpinned`);
  for (const p of active) console.log(`  ${p.name.padEnd(26)} ${p.describe}`);

  const meta = {
    type: 'meta',
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: nCpus,
    kernel: release(),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']),
    haproxy: versionOf('haproxy', ['-v']),
    wrk: versionOf('wrk', ['-v']),
    frontline_commit: versionOf('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    settings: { ...o, json: undefined },
    layout: { load_cpus: o.loadCpus, proxy_cpus: o.proxyCpus, origin: 'nginx master_process on, 1 worker, on the load CPU' },
    proxies: Object.fromEntries(proxies.map((p) => [p.name, p.skip ? `skipped: ${p.skip.split('\n')[0]}` : p.describe])),
  };
  if (o.json) writeFileSync(o.json, JSON.stringify(meta) + '\n');

  const runs: Run[] = [];
  const dead = new Set<string>();
  for (let round = 1; round <= o.rounds; round++) {
    // Rotate the order each round so that no proxy always runs first (or right after another).
    const shift = (round - 1) % active.length;
    const order = [...active.slice(shift), ...active.slice(0, shift)];
    for (const body of o.bodies) {
      for (const p of order) {
        if (run.stopping) return; // interrupted
        if (dead.has(p.name)) continue;
        if (p.proc?.exited) {
          console.log(`  ${p.name} exited (code ${p.proc.exitCode}); dropped from later runs:\n${tail(p.proc.logFile, 8)}`);
          dead.add(p.name);
          continue;
        }
        try {
          const r = await measure(p, body, round, o);
          if (p.proc?.exited) throw new Error(`exited during the run (code ${p.proc.exitCode}); run discarded`);
          runs.push(r);
          if (o.json) appendFileSync(o.json, JSON.stringify(r) + '\n');
          console.log(
            `  round ${round} ${p.name.padEnd(26)} ${body.padEnd(5)} ${Math.round(r.rps).toString().padStart(7)} req/s` +
              `  p99 ${r.p99_ms.toFixed(2)} ms  ${r.cpu_us_per_req.toFixed(1)} µs/req  proxy CPU ${Math.round(r.proxy_cpu_pct)}%` +
              (r.errors ? `  ERRORS ${r.errors}` : ''),
          );
        } catch (e) {
          if (run.stopping) return;
          console.log(`  round ${round} ${p.name} ${body}: failed: ${(e as Error).message.split('\n')[0]}`);
        }
        await sleep(200);
      }
    }
  }

  const summaries = summarise(runs, active, o.bodies);
  printSummary(summaries, o);
  if (o.json) {
    for (const s of summaries) appendFileSync(o.json, JSON.stringify(s) + '\n');
    console.log(`\nJSON lines written to ${o.json}`);
  }
}

runBenchmark('bench/proxy', main);
