// What handing a task to a thread pool costs: round-trip latency (one task in flight) and
// throughput (several in flight) of an empty task through frontline's pool with 0, 1 and 2
// threads, beside calling the handler directly; the CPU time each task costs the event loop's
// thread; and the latency of a 50 µs CPU task. Each figure is the median over the rounds.
// With --piscina DIR (a Piscina package directory, e.g. from `npm install piscina` in a scratch
// folder) Piscina's pool is measured beside it.
//
//   node bench/pool/overhead.ts [--rounds 3] [--samples 5000] [--duration-ms 1000] [--piscina DIR]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Pool } from '../../src/pool/pool.ts';
import init from './task.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    samples: { type: 'string', default: '5000' },
    'duration-ms': { type: 'string', default: '1000' },
    piscina: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const SAMPLES = Number(args.samples);
const DURATION_MS = Number(args['duration-ms']);
const CPU_TASK_US = 50;
/** Tasks kept in flight for the throughput figure. */
const IN_FLIGHT = 16;
const TASK = new URL('./task.ts', import.meta.url);

interface Runner {
  run(spinUs: number): Promise<number>;
  close(): Promise<void>;
}

interface Row {
  label: string;
  emptyP50: number;
  emptyP99: number;
  perSecond: number;
  loopUs: number;
  cpuP50: number;
  cpuP99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** µs per call, one call at a time: the median and the 99th percentile. */
async function latency(run: (spinUs: number) => unknown, spinUs: number, samples: number): Promise<[number, number]> {
  for (let i = 0; i < samples / 5; i++) await run(spinUs);
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await run(spinUs);
    times[i] = (performance.now() - start) * 1000;
  }
  times.sort();
  return [percentile(times, 0.5), percentile(times, 0.99)];
}

/** Empty tasks per second with IN_FLIGHT outstanding, and the CPU µs per task of this thread. */
async function throughput(run: (spinUs: number) => Promise<number>): Promise<[number, number]> {
  let done = 0;
  const start = performance.now();
  const cpu = process.threadCpuUsage();
  await new Promise<void>((resolve) => {
    let open = 0;
    const next = (): void => {
      done++;
      open--;
      if (performance.now() - start < DURATION_MS) launch();
      else if (open === 0) resolve();
    };
    const launch = (): void => {
      open++;
      void run(0).then(next);
    };
    for (let i = 0; i < IN_FLIGHT; i++) launch();
  });
  const elapsed = performance.now() - start;
  const used = process.threadCpuUsage(cpu);
  return [(done / elapsed) * 1000, (used.user + used.system) / done];
}

async function measure(label: string, runner: Runner): Promise<Row> {
  const [emptyP50, emptyP99] = await latency(runner.run, 0, SAMPLES);
  const [perSecond, loopUs] = await throughput(runner.run);
  const [cpuP50, cpuP99] = await latency(runner.run, CPU_TASK_US, Math.ceil(SAMPLES / 2));
  await runner.close();
  return { label, emptyP50, emptyP99, perSecond, loopUs, cpuP50, cpuP99 };
}

interface Config {
  label: string;
  start(): Promise<Runner>;
}

async function poolRunner(threads: number): Promise<Runner> {
  const pool = await Pool.create<number, number, undefined>({
    name: 'bench',
    module: TASK,
    initData: undefined,
    threads,
    queueLimit: IN_FLIGHT,
    overflow: 'reject',
  });
  return { run: (spinUs) => pool.run(spinUs), close: () => pool.close() };
}

interface PiscinaPool {
  run(task: unknown): Promise<number>;
  close(): Promise<void>;
}
type PiscinaClass = new (options: Record<string, unknown>) => PiscinaPool;

async function piscinaConfigs(dir: string): Promise<Config[]> {
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const module = (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as { Piscina: PiscinaClass };
  const filename = new URL('./piscina-task.ts', import.meta.url).href;
  const settings = [
    [1, 'sync'],
    [2, 'sync'],
    [1, 'disabled'],
  ] as const;
  return settings.map(([threads, atomics]) => ({
    label: `piscina ${version}, ${threads} thread${threads > 1 ? 's' : ''}${atomics === 'disabled' ? ', atomics off' : ''}`,
    async start(): Promise<Runner> {
      const pool = new module.Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, atomics });
      // Its threads start on first use: one task each before measuring.
      await Promise.all(Array.from({ length: threads }, () => pool.run(0)));
      return { run: (spinUs) => pool.run(spinUs), close: () => pool.close() };
    },
  }));
}

const handler = init();
const runDirect = (spinUs: number): Promise<number> => Promise.resolve(handler(spinUs));

const configs: Config[] = [0, 1, 2].map((threads) => ({
  label: threads === 0 ? 'frontline pool, 0 threads (inline)' : `frontline pool, ${threads} thread${threads > 1 ? 's' : ''}`,
  start: () => poolRunner(threads),
}));
if (args.piscina !== undefined) configs.push(...(await piscinaConfigs(args.piscina)));

/** The handler alone: its latency is timed around the plain call, with no promise made. */
async function measureDirect(): Promise<Row> {
  const [emptyP50, emptyP99] = await latency(handler, 0, SAMPLES);
  const [perSecond, loopUs] = await throughput(runDirect);
  const [cpuP50, cpuP99] = await latency(handler, CPU_TASK_US, Math.ceil(SAMPLES / 2));
  return { label: 'handler called directly', emptyP50, emptyP99, perSecond, loopUs, cpuP50, cpuP99 };
}

/**
 * One round: every configuration once, each pool started afresh and closed after. The order
 * turns by one each round, so that the load of a shared machine does not always fall on the same
 * configuration.
 */
async function round(index: number): Promise<Row[]> {
  const rows: Row[] = [await measureDirect()];
  for (let i = 0; i < configs.length; i++) {
    const config = configs[(i + index) % configs.length];
    rows.push(await measure(config.label, await config.start()));
  }
  return rows;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const measured: Row[] = [];
for (let i = 0; i < ROUNDS; i++) measured.push(...(await round(i)));
const labels = ['handler called directly', ...configs.map((c) => c.label)];
const rows: Row[] = labels.map((label) => {
  const ofLabel = measured.filter((r) => r.label === label);
  const column = (key: Exclude<keyof Row, 'label'>): number => median(ofLabel.map((r) => r[key]));
  return {
    label,
    emptyP50: column('emptyP50'),
    emptyP99: column('emptyP99'),
    perSecond: column('perSecond'),
    loopUs: column('loopUs'),
    cpuP50: column('cpuP50'),
    cpuP99: column('cpuP99'),
  };
});

const header = ['', 'empty p50 µs', 'empty p99 µs', 'empty tasks/s', 'loop CPU µs/task', `${CPU_TASK_US} µs task p50`, `${CPU_TASK_US} µs task p99`];
const table = rows.map((r) => [
  r.label,
  r.emptyP50.toFixed(1),
  r.emptyP99.toFixed(1),
  Math.round(r.perSecond).toLocaleString('en-US'),
  r.loopUs.toFixed(2),
  r.cpuP50.toFixed(1),
  r.cpuP99.toFixed(1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
console.log(
  `node ${process.version}; medians of ${ROUNDS} rounds; latency: ${SAMPLES} tasks one at a time; ` +
    `tasks/s and loop CPU: ${IN_FLIGHT} in flight for ${DURATION_MS} ms`,
);
console.log(line(header));
console.log('| ' + widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ') + ' |');
for (const row of table) console.log(line(row));
