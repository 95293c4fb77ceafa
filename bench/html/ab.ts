// Paired A/B of two HTML engine modules on one workload of bench/html/run.ts (lol-html's bench
// pages, 16 KB chunks), for changes smaller than the machine's noise between runs:
//
//   node bench/html/ab.ts A/src/html/index.ts B/src/html/index.ts [--workload typical] [--rounds 150]
//
// One process loads both modules and times whole passes over the pages, A and B alternately; the
// figure is the median over rounds of B's time ÷ A's (the rounds' load cancels out). The module
// loaded first runs a few per cent faster, so the comparison runs twice, in a child process for
// each load order, and reports both and their geometric mean. To compare commits, copy their
// src/html somewhere: `git archive <commit> src/html | tar -x -C /tmp/a`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEngineModule } from '../../test/helpers/html-rewriter-module.ts';
import { rewrite, rewriterEngine, split, WORKLOADS, type WorkloadName } from './workloads.ts';

const PAGES_DIR = new URL('../../../shared/html-rewriter/lol-html/bench-pages/', import.meta.url);

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workload: { type: 'string', default: 'typical' },
    rounds: { type: 'string', default: '150' },
    // Internal: a child's run, modules in the order given.
    child: { type: 'boolean', default: false },
  },
});
if (positionals.length !== 2) throw new Error('usage: node bench/html/ab.ts A_MODULE B_MODULE [--workload typical] [--rounds 150]');
const workload = opts.workload as WorkloadName;
if (!WORKLOADS.includes(workload)) throw new Error(`--workload: ${WORKLOADS.join(', ')}, not ${workload}`);
const rounds = Number(opts.rounds);

interface ChildResult {
  /** MB/s of each module (median pass) and the median over rounds of time(second) ÷ time(first). */
  mbps: [number, number];
  ratio: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measure(modules: readonly string[]): Promise<ChildResult> {
  const engines = await Promise.all(modules.map(async (m) => rewriterEngine('frontline', (await loadEngineModule(m)).factory)));
  const pages = readdirSync(PAGES_DIR).filter((f) => f.endsWith('.html')).sort()
    .map((f) => split(new Uint8Array(readFileSync(new URL(f, PAGES_DIR))), 16384));
  const bytes = pages.reduce((n, chunks) => n + chunks.reduce((m, c) => m + c.length, 0), 0);
  const times: [number[], number[]] = [[], []];
  const discard = (): void => {};
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      for (const chunks of pages) await rewrite(engines[k], workload, chunks, discard);
      times[k].push(performance.now() - t0);
    }
  }
  // The first fifth of the rounds warms up.
  const [a, b] = times.map((t) => t.slice(Math.floor(rounds / 5)));
  return { mbps: [bytes / median(a) / 1e3, bytes / median(b) / 1e3], ratio: median(b.map((t, i) => t / a[i])) };
}

if (opts.child) {
  console.log(JSON.stringify(await measure(positionals)));
} else {
  const [a, b] = positionals.map((p) => resolve(p));
  const run = (first: string, second: string): ChildResult => {
    const args = [process.argv[1], first, second, '--child', '--workload', workload, '--rounds', String(rounds)];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ChildResult;
  };
  const ab = run(a, b);
  const ba = run(b, a);
  // Both as B ÷ A.
  const ratios = [ab.ratio, 1 / ba.ratio];
  const f = (x: number): string => x.toFixed(3);
  console.log(`${workload}, ${rounds} rounds; B time ÷ A time, median of paired passes (< 1: B is faster)`);
  console.log(`  A loaded first: ${f(ratios[0])}   (A ${ab.mbps[0].toFixed(1)} MB/s, B ${ab.mbps[1].toFixed(1)} MB/s)`);
  console.log(`  B loaded first: ${f(ratios[1])}   (A ${ba.mbps[1].toFixed(1)} MB/s, B ${ba.mbps[0].toFixed(1)} MB/s)`);
  console.log(`  geometric mean: ${f(Math.sqrt(ratios[0] * ratios[1]))}`);
}
