// The WAF benchmark: frontline with the OWASP Core Rule Set (paranoia levels 1 and 2; the WAF
// inline on the event loop and in one thread) beside nginx with libmodsecurity3 and the same CRS
// files, with frontline and nginx without a WAF as reference rows, measured in one run.
//
//   node_modules/.bin/node bench/waf/run.ts [--rounds N] [--duration S] [--warmup S]
//        [--only row,row] [--workloads get,post] [--crs DIR] [--json FILE] [--connections N]
//        [--load-cpu 0] [--proxy-cpu 1] [--check] [--keep]
//
// Layout (2 CPUs), as bench/proxy: wrk, the nginx origin and this harness on CPU 0; the proxy under
// test on CPU 1 (taskset; all its processes and threads, frontline's WAF thread included). Before
// anything is measured every row is checked: both workloads answered 200 and matching no rule,
// SQL injections answered 403 by the WAF rows (200 without a WAF), and a request that only PL2
// rules catch answered 403 at PL2 and 200 at PL1. See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuJiffies, cpuMicros, freePort, median, processTree, rssKiB, sleep, start, stop, tail, versionOf, type Started } from '../proxy/procs.ts';
import { runWrk } from '../proxy/wrk.ts';
import { runBenchmark, type BenchRun } from '../proxy/lifecycle.ts';
import { MODSEC_MODULE, writeFrontlineConfig, writeModsecRules, writeNginxConfig, writeWafOriginConfig } from './configs.ts';
import { attacks, FORM_BYTES, GET_PATH, ORIGIN_FILES, paranoiaProbe, send, workload, WORKLOADS, writeWrkScript, type HttpRequest, type WorkloadName } from './workloads.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Rows

interface RowSpec {
  name: string;
  engine: 'nginx' | 'frontline';
  /** Paranoia level and (frontline) WAF threads; undefined: no WAF. */
  waf?: { pl: number; threads: number };
  /** The same proxy without the WAF: the WAF's CPU per request is the difference. */
  baseline?: string;
  /** Not pinned: the proxy may use every CPU (the WAF thread can run beside the event loop). */
  unpinned?: boolean;
  describe: string;
}

const ROW_SPECS: RowSpec[] = [
  { name: 'nginx', engine: 'nginx', describe: 'nginx, 1 worker, no WAF (bench/proxy settings, access log on)' },
  { name: 'nginx-modsec-pl1', engine: 'nginx', waf: { pl: 1, threads: 0 }, baseline: 'nginx', describe: 'nginx + libmodsecurity3 + CRS, PL 1' },
  { name: 'nginx-modsec-pl2', engine: 'nginx', waf: { pl: 2, threads: 0 }, baseline: 'nginx', describe: 'nginx + libmodsecurity3 + CRS, PL 2' },
  { name: 'frontline', engine: 'frontline', describe: 'frontline, workers: 1, waf.enabled: false (bench/proxy settings, access log on)' },
  { name: 'frontline-crs-pl1-t0', engine: 'frontline', waf: { pl: 1, threads: 0 }, baseline: 'frontline', describe: 'frontline + CRS, PL 1, waf.threads: 0 (inline, on the event loop)' },
  { name: 'frontline-crs-pl1-t1', engine: 'frontline', waf: { pl: 1, threads: 1 }, baseline: 'frontline', describe: 'frontline + CRS, PL 1, waf.threads: 1 (the thread is pinned to the same CPU)' },
  { name: 'frontline-crs-pl2-t0', engine: 'frontline', waf: { pl: 2, threads: 0 }, baseline: 'frontline', describe: 'frontline + CRS, PL 2, waf.threads: 0' },
  { name: 'frontline-crs-pl2-t1', engine: 'frontline', waf: { pl: 2, threads: 1 }, baseline: 'frontline', describe: 'frontline + CRS, PL 2, waf.threads: 1 (same CPU)' },
  {
    name: 'frontline-crs-pl1-t1-unpinned',
    engine: 'frontline',
    waf: { pl: 1, threads: 1 },
    baseline: 'frontline',
    unpinned: true,
    describe: 'frontline + CRS, PL 1, waf.threads: 1, NOT pinned (shares CPU 0 with wrk and the origin)',
  },
];
/** Rows measured unless --only names others. */
const DEFAULT_ROWS = ROW_SPECS.filter((r) => !r.unpinned).map((r) => r.name);
const GROUPS: Record<string, string[]> = {
  'nginx-modsec': ['nginx-modsec-pl1', 'nginx-modsec-pl2'],
  'frontline-crs': ['frontline-crs-pl1-t0', 'frontline-crs-pl1-t1', 'frontline-crs-pl2-t0', 'frontline-crs-pl2-t1'],
  pl1: ['nginx', 'nginx-modsec-pl1', 'frontline', 'frontline-crs-pl1-t0', 'frontline-crs-pl1-t1'],
  pl2: ['nginx', 'nginx-modsec-pl2', 'frontline', 'frontline-crs-pl2-t0', 'frontline-crs-pl2-t1'],
  all: ROW_SPECS.map((r) => r.name),
};

interface Row extends RowSpec {
  port: number;
  cpus: string;
  proc?: Started;
  skip?: string;
  /** Truncated before each run (it grows by a line per request). */
  accessLog?: string;
  /** nginx + ModSecurity: the server's error log at info (rule matches). */
  modsecLog?: string;
  errorLog?: string;
}

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  rounds: number;
  duration: number;
  warmup: number;
  prewarm: number;
  connections: number;
  /** See writeWrkScript. */
  values: 'varied' | 'repeated';
  rows: string[];
  workloads: WorkloadName[];
  crs: string;
  json?: string;
  loadCpus: string;
  proxyCpus: string;
  check: boolean;
  keep: boolean;
}

function usage(): never {
  console.log(`usage: node_modules/.bin/node bench/waf/run.ts [options]
  --rounds N          alternating rounds; medians are reported (default 3, env BENCH_ROUNDS)
  --duration S        measured seconds per run (default 3, env BENCH_DURATION)
  --warmup S          discarded warm-up seconds before each run (default 2, env BENCH_WARMUP)
  --prewarm S         once, before round 1: S seconds of each workload per frontline row, so that
                      V8 has compiled the WAF's hot paths (default 4; 0: none)
  --connections N     wrk connections (default 50; wrk always uses one thread)
  --only a,b          rows: ${ROW_SPECS.map((r) => r.name).join(', ')}
                      or groups: ${Object.keys(GROUPS).join(', ')}
                      (default: every row but the unpinned one)
  --workloads a,b     ${WORKLOADS.join(', ')} (default both)
  --values V          varied: the session cookie and the GET's page number new in every request (default);
                      repeated: the same request every time (what the WAF works out per value is then all kept)
  --crs DIR           OWASP CRS v4 (crs-setup.conf.example, rules/) (default ../shared/crs, env FRONTLINE_CRS)
  --json FILE         also write JSON lines (meta, checks, one per run, summaries, ratios)
  --load-cpu LIST     CPUs for wrk, the origin and the harness (default 0)
  --proxy-cpu LIST    CPU for the proxy under test (default 1)
  --check             start every row and run the checks (200s, 403s, PL1 vs PL2), measure nothing
  --keep              keep the temp dir (configs, Lua scripts, logs) after the run`);
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
  const known = new Set(['rounds', 'duration', 'warmup', 'prewarm', 'connections', 'only', 'workloads', 'values', 'crs', 'json', 'load-cpu', 'proxy-cpu', 'check', 'keep', 'help']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a.slice(2))) throw new Error(`unknown option ${a} (--help lists them)`);
  const int = (name: string, env: string, fallback: number, min: number): number => {
    const raw = opt(name) ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (wrk takes whole seconds)`);
    return n;
  };
  let rows = DEFAULT_ROWS;
  const onlyRaw = opt('only');
  if (onlyRaw) {
    const wanted = new Set<string>();
    for (const t of onlyRaw.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (GROUPS[t]) for (const n of GROUPS[t]) wanted.add(n);
      else if (ROW_SPECS.some((r) => r.name === t)) wanted.add(t);
      else throw new Error(`--only: unknown row "${t}"; rows: ${ROW_SPECS.map((r) => r.name).join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}`);
    }
    rows = ROW_SPECS.map((r) => r.name).filter((n) => wanted.has(n));
  }
  const workloads = (opt('workloads') ?? WORKLOADS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as WorkloadName[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`--workloads: unknown "${w}"; known: ${WORKLOADS.join(', ')}`);
  const values = opt('values') ?? 'varied';
  if (values !== 'varied' && values !== 'repeated') throw new Error(`--values: "${values}" is neither varied nor repeated`);
  const pinned = availableParallelism() >= 2;
  return {
    values,
    rounds: int('rounds', 'BENCH_ROUNDS', 3, 1),
    duration: int('duration', 'BENCH_DURATION', 3, 1),
    warmup: int('warmup', 'BENCH_WARMUP', 2, 0),
    prewarm: int('prewarm', 'BENCH_PREWARM', 4, 0),
    connections: int('connections', 'BENCH_CONNECTIONS', 50, 1),
    rows,
    workloads,
    crs: resolve(opt('crs') ?? (process.env.FRONTLINE_CRS || join(ROOT, '..', 'shared', 'crs'))),
    json: opt('json'),
    loadCpus: opt('load-cpu') ?? (pinned ? '0' : ''),
    proxyCpus: opt('proxy-cpu') ?? (pinned ? '1' : ''),
    check: argv.includes('--check'),
    keep: argv.includes('--keep'),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function readText(file: string | undefined): string {
  if (file === undefined || !existsSync(file)) return '';
  return readFileSync(file, 'utf8');
}

function truncate(file: string | undefined): void {
  if (file !== undefined && existsSync(file)) truncateSync(file, 0);
}

function debVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function crsVersion(crs: string): string {
  // ../shared/crs/VERSION is a provenance note ("crs_version_string: 4.29.0-dev"); CRS's own is one line.
  const v = readText(join(crs, 'VERSION'));
  const tagged = /^crs_version_string:\s*(\S+)/m.exec(v)?.[1];
  if (tagged) return tagged;
  if (v.trim() && !v.trim().includes('\n')) return v.trim();
  return /ver\.([\w.-]+)/.exec(readText(join(crs, 'crs-setup.conf.example')))?.[1] ?? 'unknown';
}

function missingTools(): string[] {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
  const out = ['wrk', 'nginx', 'taskset'].filter((c) => !has(c));
  if (!existsSync(MODSEC_MODULE)) out.push('libnginx-mod-http-modsecurity');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Starting the rows and checking them

function makeRows(dir: string, o: Options, originPort: number, ports: Map<string, number>, metricsPorts: Map<string, number>): Row[] {
  const modsecRules = new Map<number, string>();
  const rulesFor = (pl: number) => {
    let f = modsecRules.get(pl);
    if (f === undefined) modsecRules.set(pl, (f = writeModsecRules(dir, o.crs, pl)));
    return f;
  };
  return ROW_SPECS.filter((s) => o.rows.includes(s.name)).map((s) => {
    const row: Row = { ...s, port: ports.get(s.name)!, cpus: s.unpinned ? [o.loadCpus, o.proxyCpus].filter(Boolean).join(',') : o.proxyCpus };
    const out = join(dir, `${s.name}.out`);
    if (s.engine === 'nginx') {
      const sub = join(dir, s.name);
      const cfg = writeNginxConfig(sub, row.port, originPort, s.waf ? rulesFor(s.waf.pl) : undefined);
      row.accessLog = cfg.accessLog;
      row.errorLog = cfg.errorLog;
      row.modsecLog = cfg.modsecLog;
      row.proc = start(s.name, row.cpus, 'nginx', ['-p', sub, '-e', cfg.errorLog, '-c', cfg.file], out);
    } else {
      const cfg = writeFrontlineConfig(dir, {
        name: s.name,
        port: row.port,
        metricsPort: metricsPorts.get(s.name)!,
        originPort,
        crs: o.crs,
        waf: { enabled: s.waf !== undefined, paranoiaLevel: s.waf?.pl ?? 1, threads: s.waf?.threads ?? 1 },
      });
      row.accessLog = cfg.accessLog;
      row.errorLog = out;
      row.proc = start(s.name, row.cpus, NODE, [join(ROOT, 'src/cli/main.ts'), 'serve', '--config', cfg.file], out);
    }
    return row;
  });
}

async function waitReady(row: Row, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (row.proc?.exited) throw new Error(`exited (code ${row.proc.exitCode}) before answering`);
    try {
      const r = await send(row.port, workload('get'), 2000);
      if (r.status === 200) return;
      last = `answered ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`not ready after ${timeoutMs} ms (${last})`);
}

interface Check {
  type: 'check';
  row: string;
  request: string;
  expected: number;
  status: number;
  ok: boolean;
  /** Rule ids the engine logged for this request (frontline's access log, ModSecurity's error log). */
  rules: string[];
}

/** Rule ids the engine logged since its log was truncated; waits a little for frontline's batched log. */
async function loggedRules(row: Row, expectLines: number): Promise<string[]> {
  if (row.waf === undefined) return [];
  if (row.engine === 'nginx') {
    await sleep(100);
    const ids = new Set<string>();
    for (const line of readText(row.modsecLog).split('\n')) {
      if (!line.includes('ModSecurity:')) continue;
      for (const m of line.matchAll(/\[id "(\d+)"\]/g)) ids.add(m[1]);
    }
    return [...ids];
  }
  const deadline = Date.now() + 3000;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = readText(row.accessLog).split('\n').filter(Boolean);
    if (lines.length >= expectLines) break;
    await sleep(100);
  }
  const ids = new Set<string>();
  for (const line of lines) {
    const entry = JSON.parse(line) as { rules?: string[]; answered_by?: string | null };
    for (const r of entry.rules ?? []) if (r.startsWith('waf:')) ids.add(r.slice(4));
    if (entry.answered_by?.startsWith('waf:')) ids.add(entry.answered_by.slice(4));
  }
  return [...ids];
}

/** Sends one request and compares the status; the rules it made the engine log. */
async function checkOne(row: Row, label: string, request: HttpRequest, expected: number, bodyCheck?: (body: string) => string | undefined): Promise<Check> {
  truncate(row.modsecLog);
  truncate(row.accessLog);
  const r = await send(row.port, request);
  const bodyProblem = r.status === 200 && bodyCheck ? bodyCheck(r.body) : undefined;
  const rules = await loggedRules(row, 1);
  return { type: 'check', row: row.name, request: bodyProblem ? `${label} (${bodyProblem})` : label, expected, status: r.status, ok: r.status === expected && !bodyProblem, rules };
}

/**
 * The checks that make the numbers mean something: the benign workloads pass (200, the origin's
 * body) and match no rule at all (a rule that matches costs a log line and anomaly scoring, and
 * would not be the benign case any more); SQL injections in a query argument and in a form field
 * are blocked (403) by every WAF row and pass without one; a request only PL2 rules catch is
 * blocked at PL2 and passes at PL1 (the paranoia level reached the engine).
 */
async function checkRow(row: Row): Promise<Check[]> {
  const checks: Check[] = [];
  const get = workload('get');
  const post = workload('post');
  const getBody = (b: string) => (b === ORIGIN_FILES[GET_PATH.slice(1)] ? undefined : `body of ${b.length} bytes is not the origin's page`);
  const postBody = (b: string) => (b === 'saved\n' ? undefined : `body ${JSON.stringify(b.slice(0, 40))} is not the origin's`);
  const benign = [
    await checkOne(row, 'benign GET (the get workload)', get, 200, getBody),
    await checkOne(row, `benign ${FORM_BYTES}-byte form POST (the post workload)`, post, 200, postBody),
  ];
  for (const c of benign) {
    if (c.rules.length > 0) {
      c.ok = false;
      c.request += `; matched rules ${c.rules.join(' ')}: a benign workload must match none`;
    }
  }
  checks.push(...benign);
  for (const a of attacks()) checks.push(await checkOne(row, a.name, a.request, row.waf ? 403 : 200));
  const probe = paranoiaProbe();
  checks.push(await checkOne(row, probe.name, probe.request, row.waf && row.waf.pl >= 2 ? 403 : 200));
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Run {
  type: 'run';
  round: number;
  row: string;
  workload: WorkloadName;
  rps: number;
  requests: number;
  seconds: number;
  p50_ms: number;
  p99_ms: number;
  /** wrk's socket errors + non-2xx/3xx responses. */
  errors: number;
  non_2xx: number;
  cpu_us_per_req: number;
  proxy_cpu_pct: number;
  load_cpu_pct: number | null;
  rss_peak_kib: number;
  threads: number;
}

function threadCount(pids: number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      n += Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return n;
}

async function measure(row: Row, wl: WorkloadName, script: string, round: number, o: Options): Promise<Run> {
  const url = `http://127.0.0.1:${row.port}/`;
  const pid = row.proc!.pid;
  truncate(row.accessLog);
  truncate(row.modsecLog);
  let tree = processTree(pid);
  let peak = rssKiB(tree);
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKiB(tree));
  }, 100);
  try {
    if (o.warmup > 0) await runWrk({ url, script, connections: o.connections, seconds: o.warmup, cpus: o.loadCpus });
    tree = processTree(pid);
    const loadCpu = o.loadCpus ? Number(o.loadCpus.split(/[,-]/)[0]) : -1;
    const j0 = loadCpu >= 0 ? cpuJiffies(loadCpu) : undefined;
    const cpu0 = cpuMicros(tree);
    const t0 = process.hrtime.bigint();
    const r = await runWrk({ url, script, connections: o.connections, seconds: o.duration, cpus: o.loadCpus });
    const t1 = process.hrtime.bigint();
    const cpu1 = cpuMicros(tree);
    const j1 = loadCpu >= 0 ? cpuJiffies(loadCpu) : undefined;
    peak = Math.max(peak, rssKiB(tree));
    return {
      type: 'run',
      round,
      row: row.name,
      workload: wl,
      rps: r.rps,
      requests: r.requests,
      seconds: r.seconds,
      p50_ms: r.p50ms,
      p99_ms: r.p99ms,
      errors: r.errors,
      non_2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.raw)?.[1] ?? 0),
      cpu_us_per_req: r.requests > 0 ? (cpu1 - cpu0) / r.requests : NaN,
      proxy_cpu_pct: (100 * (cpu1 - cpu0)) / (Number(t1 - t0) / 1000),
      load_cpu_pct: j0 && j1 && j1.total > j0.total ? (100 * (j1.busy - j0.busy)) / (j1.total - j0.total) : null,
      rss_peak_kib: peak,
      threads: threadCount(tree),
    };
  } finally {
    clearInterval(sampler);
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

interface Summary {
  type: 'summary';
  row: string;
  workload: WorkloadName;
  rounds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_req: number;
  /** Median over the rounds of (CPU/req of this row − CPU/req of its baseline in the same round). */
  waf_cpu_us_per_req: number | null;
  /** Median over the rounds of req/s ÷ the baseline's req/s. */
  rps_vs_no_waf: number | null;
  proxy_cpu_pct: number;
  load_cpu_pct: number | null;
  rss_peak_mib: number;
  errors: number;
  non_2xx: number;
}

/** Median over the rounds of f(a's run, b's run), for the rounds where both ran. */
function perRound(runs: Run[], a: string, b: string, wl: WorkloadName, f: (x: Run, y: Run) => number): number | null {
  const values: number[] = [];
  for (const x of runs.filter((r) => r.row === a && r.workload === wl)) {
    const y = runs.find((r) => r.row === b && r.workload === wl && r.round === x.round);
    if (y) values.push(f(x, y));
  }
  const m = median(values);
  return Number.isFinite(m) ? m : null;
}

const wafCpu = (x: Run, base: Run) => x.cpu_us_per_req - base.cpu_us_per_req;

function summarise(runs: Run[], rows: Row[], workloads: WorkloadName[]): Summary[] {
  const out: Summary[] = [];
  for (const wl of workloads) {
    for (const row of rows) {
      const rs = runs.filter((r) => r.row === row.name && r.workload === wl);
      if (rs.length === 0) continue;
      const load = rs.map((r) => r.load_cpu_pct).filter((x): x is number => x !== null);
      out.push({
        type: 'summary',
        row: row.name,
        workload: wl,
        rounds: rs.length,
        rps: median(rs.map((r) => r.rps)),
        p50_ms: median(rs.map((r) => r.p50_ms)),
        p99_ms: median(rs.map((r) => r.p99_ms)),
        cpu_us_per_req: median(rs.map((r) => r.cpu_us_per_req)),
        waf_cpu_us_per_req: row.baseline ? perRound(runs, row.name, row.baseline, wl, wafCpu) : null,
        rps_vs_no_waf: row.baseline ? perRound(runs, row.name, row.baseline, wl, (x, y) => x.rps / y.rps) : null,
        proxy_cpu_pct: median(rs.map((r) => r.proxy_cpu_pct)),
        load_cpu_pct: load.length ? median(load) : null,
        rss_peak_mib: median(rs.map((r) => r.rss_peak_kib)) / 1024,
        errors: rs.reduce((a, r) => a + r.errors, 0),
        non_2xx: rs.reduce((a, r) => a + r.non_2xx, 0),
      });
    }
  }
  return out;
}

interface Ratio {
  type: 'ratio';
  pl: number;
  workload: WorkloadName;
  frontline_row: string;
  /** nginx+ModSecurity CPU/req ÷ frontline+CRS CPU/req (whole proxy processes). */
  modsec_over_frontline_cpu: number | null;
  /** ModSecurity's WAF CPU/req ÷ frontline's WAF CPU/req (each minus its proxy without a WAF). */
  modsec_over_frontline_waf_cpu: number | null;
  /** frontline+CRS req/s ÷ nginx+ModSecurity req/s. */
  frontline_over_modsec_rps: number | null;
  /** frontline+CRS req/s ÷ frontline without the WAF req/s. */
  frontline_waf_over_no_waf_rps: number | null;
}

function ratios(runs: Run[], rows: Row[], workloads: WorkloadName[]): Ratio[] {
  const out: Ratio[] = [];
  for (const pl of [1, 2]) {
    const modsec = `nginx-modsec-pl${pl}`;
    for (const row of rows.filter((r) => r.engine === 'frontline' && r.waf?.pl === pl)) {
      for (const wl of workloads) {
        out.push({
          type: 'ratio',
          pl,
          workload: wl,
          frontline_row: row.name,
          modsec_over_frontline_cpu: perRound(runs, modsec, row.name, wl, (m, f) => m.cpu_us_per_req / f.cpu_us_per_req),
          modsec_over_frontline_waf_cpu: (() => {
            // Per round: (ModSecurity − nginx) ÷ (frontline+CRS − frontline).
            const values: number[] = [];
            for (const m of runs.filter((r) => r.row === modsec && r.workload === wl)) {
              const same = (name: string) => runs.find((r) => r.row === name && r.workload === wl && r.round === m.round);
              const n = same('nginx');
              const f = same(row.name);
              const fb = same('frontline');
              if (n && f && fb) values.push(wafCpu(m, n) / wafCpu(f, fb));
            }
            const v = median(values);
            return Number.isFinite(v) ? v : null;
          })(),
          frontline_over_modsec_rps: perRound(runs, row.name, modsec, wl, (f, m) => f.rps / m.rps),
          frontline_waf_over_no_waf_rps: perRound(runs, row.name, 'frontline', wl, (f, b) => f.rps / b.rps),
        });
      }
    }
  }
  return out;
}

function table(rows: string[][], rightAlign: boolean[]): string {
  const full = rows.filter((r) => r.length > 1);
  const widths = rows[0].map((_, i) => Math.max(...full.map((r) => r[i].length)));
  const lines = rows.map((r) => (r.length === 1 ? r[0] : r.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const us = (x: number) => (Math.abs(x) < 100 ? x.toFixed(1) : x.toFixed(0));
const times = (x: number | null) => (x === null ? '-' : x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`);

function printSummary(summaries: Summary[], rs: Ratio[], o: Options): void {
  const head = ['row', 'workload', 'req/s', 'vs no WAF', 'p50 ms', 'p99 ms', 'CPU µs/req', 'WAF µs/req', 'proxy CPU', 'load CPU', 'RSS peak MiB', 'errors'];
  const lines: string[][] = [head];
  let last = '';
  for (const s of summaries) {
    if (last && s.workload !== last) lines.push(['']);
    last = s.workload;
    lines.push([
      s.row,
      s.workload,
      Math.round(s.rps).toString(),
      s.rps_vs_no_waf === null ? '-' : s.rps_vs_no_waf.toFixed(3),
      ms(s.p50_ms),
      ms(s.p99_ms),
      us(s.cpu_us_per_req),
      s.waf_cpu_us_per_req === null ? '-' : us(s.waf_cpu_us_per_req),
      `${Math.round(s.proxy_cpu_pct)}%`,
      s.load_cpu_pct === null ? '-' : `${Math.round(s.load_cpu_pct)}%`,
      s.rss_peak_mib.toFixed(0),
      s.errors === 0 ? '0' : `${s.errors} (${s.non_2xx} non-2xx) INVALID`,
    ]);
  }
  console.log(
    `\nMedians of ${o.rounds} round(s); ${o.duration} s measured after ${o.warmup} s warm-up (frontline rows: + ${o.prewarm} s per workload once at the start);` +
      ` wrk -t 1 -c ${o.connections}; values ${o.values}${o.values === 'varied' ? ' (a new session cookie and page number in every request)' : ' (the same request every time)'}; CRS ${crsVersion(o.crs)}.`,
  );
  console.log(table(lines, [false, false, true, true, true, true, true, true, true, true, true, false]));
  console.log(
    `\nCPU µs/req: utime + stime of all the proxy's processes and threads (/proc) ÷ requests.` +
      `\nWAF µs/req: CPU µs/req − that of the same proxy without a WAF (nginx, frontline) in the same round; median over the rounds.` +
      `\nvs no WAF: req/s ÷ req/s of the same proxy without a WAF, in the same round; median over the rounds.` +
      `\nproxy CPU: its CPU time ÷ wall time (100% = one CPU). load CPU: busy share of CPU ${o.loadCpus || '-'} (wrk + origin + harness).` +
      `\nThe -t1 rows' WAF thread is pinned with the rest of the process (taskset -c ${o.proxyCpus || '-'}): it adds a hand-off, not a CPU.`,
  );
  if (rs.length === 0) return;
  const wls = [...new Set(rs.map((r) => r.workload))];
  const rhead = ['PL', 'frontline row', 'ratio', ...wls, 'target'];
  const rlines: string[][] = [rhead];
  const verdict = (values: (number | null)[], min: number) => (values.every((v) => v !== null) ? (values.every((v) => v! >= min) ? 'met' : 'NOT met') : '');
  let lastKey = '';
  for (const pl of [1, 2]) {
    for (const fr of [...new Set(rs.filter((r) => r.pl === pl).map((r) => r.frontline_row))]) {
      if (lastKey) rlines.push(['']);
      lastKey = fr;
      const get = (wl: WorkloadName) => rs.find((r) => r.pl === pl && r.frontline_row === fr && r.workload === wl)!;
      const line = (label: string, key: keyof Ratio, target?: number) => {
        const values = wls.map((wl) => get(wl)[key] as number | null);
        rlines.push([String(pl), fr, label, ...values.map(times), target !== undefined && pl === 1 ? `≥ ${target}× ${verdict(values, target)}` : '']);
      };
      line('ModSecurity CPU/req ÷ frontline CPU/req', 'modsec_over_frontline_cpu', 10);
      line('ModSecurity WAF µs ÷ frontline WAF µs', 'modsec_over_frontline_waf_cpu', 10);
      line('frontline req/s ÷ ModSecurity req/s', 'frontline_over_modsec_rps', 10);
      line('frontline+CRS req/s ÷ frontline req/s', 'frontline_waf_over_no_waf_rps', 0.25);
    }
  }
  console.log('\nRatios (per round, then the median over the rounds; the targets are for PL 1):');
  console.log(table(rlines, [false, false, false, ...wls.map(() => true), false]));
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(run: BenchRun): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  run.keepTempDir = o.keep;
  if (!existsSync(join(o.crs, 'crs-setup.conf.example')) || !existsSync(join(o.crs, 'rules'))) {
    throw new Error(`no CRS in ${o.crs} (crs-setup.conf.example and rules/ expected): pass --crs DIR`);
  }
  const missing = missingTools();
  if (missing.length > 0) {
    console.log(`bench/waf: ${missing.join(', ')} missing; running bench/waf/install.sh`);
    try {
      execFileSync('bash', [join(ROOT, 'bench/waf/install.sh')], { stdio: 'inherit' });
    } catch {
      console.error('bench/waf: cannot run without them (see above). Nothing was measured.');
      process.exitCode = 1;
      return;
    }
  }
  if (!o.loadCpus || !o.proxyCpus) console.log(`note: ${availableParallelism()} CPU(s) available: nothing is pinned; results are noisier.`);
  if (o.loadCpus) execFileSync('taskset', ['-a', '-p', '-c', o.loadCpus, String(process.pid)], { stdio: 'ignore' });

  const tmpDir = (run.tempDir = mkdtempSync(join(tmpdir(), 'frontline-bench-waf-')));
  const originPort = await freePort();
  const ports = new Map<string, number>();
  const metricsPorts = new Map<string, number>();
  for (const s of ROW_SPECS) ports.set(s.name, await freePort());
  for (const s of ROW_SPECS) if (s.engine === 'frontline') metricsPorts.set(s.name, await freePort());

  const origin = start('origin', o.loadCpus, 'nginx', ['-p', tmpDir, '-e', join(tmpDir, 'origin-error.log'), '-c', writeWafOriginConfig(tmpDir, originPort)], join(tmpDir, 'origin.out'));
  const originReady = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await send(originPort, workload('get'), 1000)).status === 200 && (await send(originPort, workload('post'), 1000)).status === 200) break;
    } catch {
      // not yet
    }
    if (origin.exited || Date.now() > originReady) throw new Error(`the nginx origin did not start:\n${tail(join(tmpDir, 'origin-error.log'))}\n${tail(origin.logFile)}`);
    await sleep(100);
  }

  const scripts = new Map<WorkloadName, string>(WORKLOADS.map((w) => [w, writeWrkScript(tmpDir, w, workload(w), o.values)]));

  // Every row is started up front and kept running, so that rounds alternate between them.
  console.log(`bench/waf: starting ${o.rows.join(', ')} (CRS ${crsVersion(o.crs)} from ${o.crs})`);
  const rows = makeRows(tmpDir, o, originPort, ports, metricsPorts);
  const checks: Check[] = [];
  for (const row of rows) {
    try {
      const t0 = Date.now();
      await waitReady(row, row.engine === 'frontline' ? 90_000 : 30_000);
      const rowChecks = await checkRow(row);
      checks.push(...rowChecks);
      const failed = rowChecks.filter((c) => !c.ok);
      console.log(`  ${row.name.padEnd(30)} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; checks ${failed.length === 0 ? 'passed' : 'FAILED'}`);
      for (const c of rowChecks) {
        console.log(`      ${c.ok ? 'ok  ' : 'FAIL'} ${c.request}: ${c.status} (expected ${c.expected})${c.rules.length ? `, rules ${c.rules.join(' ')}` : ''}`);
      }
      if (failed.length > 0) throw new Error(`${failed.length} check(s) failed`);
    } catch (e) {
      row.skip = `${(e as Error).message}\n    ${tail(row.errorLog, 8).replaceAll('\n', '\n    ')}`;
      if (row.proc) await stop(row.proc);
    }
  }
  const active = rows.filter((r) => !r.skip);
  for (const r of rows.filter((x) => x.skip)) console.log(`skip ${r.name}: ${r.skip}`);

  const meta = {
    type: 'meta',
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: availableParallelism(),
    kernel: release(),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']),
    libmodsecurity3: debVersion('libmodsecurity3'),
    nginx_modsecurity_connector: debVersion('libnginx-mod-http-modsecurity'),
    wrk: versionOf('wrk', ['-v']),
    crs: `${crsVersion(o.crs)} (${o.crs})`,
    frontline_commit: versionOf('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    settings: { ...o, json: undefined },
    rows: Object.fromEntries(rows.map((r) => [r.name, r.skip ? `skipped: ${r.skip.split('\n')[0]}` : r.describe])),
    workloads: Object.fromEntries(o.workloads.map((w) => [w, workload(w)])),
  };
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(meta) + '\n');
    for (const c of checks) appendFileSync(o.json, JSON.stringify(c) + '\n');
  }
  if (o.check) {
    console.log(`\n--check: ${active.length} of ${rows.length} row(s) passed their checks; nothing measured.`);
    if (active.length < rows.length) process.exitCode = 1;
    return;
  }
  if (active.length === 0) throw new Error('no row to measure');

  const prewarmed = active.filter((r) => r.engine === 'frontline');
  const estimate = o.rounds * active.length * o.workloads.length * (o.warmup + o.duration + 0.4) + prewarmed.length * o.workloads.length * o.prewarm;
  console.log(`\nbench/waf: ${active.length} row(s) × ${o.workloads.join(', ')} × ${o.rounds} round(s) ≈ ${Math.ceil(estimate / 60)} min`);
  console.log(`layout: wrk + origin (nginx :${originPort}) + harness on CPU ${o.loadCpus || '-'}; proxies on CPU ${o.proxyCpus || '-'} (the unpinned row on ${o.loadCpus},${o.proxyCpus})`);
  for (const r of active) console.log(`  ${r.name.padEnd(30)} ${r.describe}`);

  // frontline's WAF runs as JavaScript that V8 optimises after some thousands of requests (at a few
  // hundred requests per second, more than one warm-up's worth); nginx and ModSecurity are C.
  if (o.prewarm > 0 && prewarmed.length > 0) {
    console.log(`prewarm: ${o.prewarm} s of ${o.workloads.join(', ')} on ${prewarmed.map((r) => r.name).join(', ')} (not measured)`);
    for (const row of prewarmed) {
      for (const wl of o.workloads) {
        if (run.stopping) return;
        try {
          await runWrk({ url: `http://127.0.0.1:${row.port}/`, script: scripts.get(wl)!, connections: o.connections, seconds: o.prewarm, cpus: o.loadCpus });
        } catch (e) {
          console.log(`  prewarm ${row.name} ${wl}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      truncate(row.accessLog);
    }
  }

  const runs: Run[] = [];
  const dead = new Set<string>();
  for (let round = 1; round <= o.rounds; round++) {
    const shift = (round - 1) % active.length;
    const order = [...active.slice(shift), ...active.slice(0, shift)];
    for (const wl of o.workloads) {
      for (const row of order) {
        if (run.stopping) return;
        if (dead.has(row.name)) continue;
        if (row.proc?.exited) {
          console.log(`  ${row.name} exited (code ${row.proc.exitCode}); dropped from later runs:\n${tail(row.errorLog, 8)}`);
          dead.add(row.name);
          continue;
        }
        try {
          const r = await measure(row, wl, scripts.get(wl)!, round, o);
          if (row.proc?.exited) throw new Error(`exited during the run (code ${row.proc.exitCode}); run discarded`);
          runs.push(r);
          if (o.json) appendFileSync(o.json, JSON.stringify(r) + '\n');
          console.log(
            `  round ${round} ${row.name.padEnd(30)} ${wl.padEnd(4)} ${Math.round(r.rps).toString().padStart(6)} req/s` +
              `  p50 ${ms(r.p50_ms)} ms  p99 ${ms(r.p99_ms)} ms  ${us(r.cpu_us_per_req)} µs/req  proxy CPU ${Math.round(r.proxy_cpu_pct)}%` +
              (r.errors ? `  ERRORS ${r.errors} (non-2xx ${r.non_2xx})` : ''),
          );
        } catch (e) {
          if (run.stopping) return;
          console.log(`  round ${round} ${row.name} ${wl}: failed: ${(e as Error).message.split('\n')[0]}`);
        }
        await sleep(200);
      }
    }
  }

  const summaries = summarise(runs, active, o.workloads);
  const rs = ratios(runs, active, o.workloads);
  printSummary(summaries, rs, o);
  if (o.json) {
    for (const s of summaries) appendFileSync(o.json, JSON.stringify(s) + '\n');
    for (const r of rs) appendFileSync(o.json, JSON.stringify(r) + '\n');
    console.log(`\nJSON lines written to ${o.json}`);
  }
}

runBenchmark('bench/waf', main);
