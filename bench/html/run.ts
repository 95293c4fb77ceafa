// The HTML rewriter benchmark (issue 5): frontline's HTMLRewriter beside html-rewriter-wasm
// (lol-html) and parse5-html-rewriting-stream, measured in one run on lol-html's bench pages
// streamed in 16 KB chunks: MB/s with no handlers and with the typical workload, the cost of one
// element-handler call with an attribute read, input consumed before the first output byte and
// how much input is held back, and peak memory (one child process per engine and workload).
// Engines alternate within each round; the tables show medians over the rounds.
//
//   node bench/html/run.ts [--quick] [--rounds 3] [--pages a.html,b.html] [--workloads none,typical]
//                          [--engines frontline,lol-html-wasm,parse5] [--engine-module src/html/index.ts]
//                          [--sections throughput,handler,latency,memory] [--json FILE|-]
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../proxy/procs.ts';
import { DEFAULT_ENGINE_MODULE, loadEngineModule, oracleFactory } from '../../test/helpers/html-rewriter-module.ts';
import { ENGINES, parse5Engine, rewrite, rewriterEngine, split, type BenchEngine, type EngineName, type Session, type WorkloadName } from './workloads.ts';
import { tokenStarts } from './token-starts.ts';

const PAGES_DIR = new URL('../../../shared/html-rewriter/lol-html/bench-pages/', import.meta.url);
const SECTIONS = ['throughput', 'handler', 'latency', 'memory'] as const;
type Section = (typeof SECTIONS)[number];

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    pages: { type: 'string' },
    workloads: { type: 'string', default: 'none,typical' },
    engines: { type: 'string', default: ENGINES.join(',') },
    'engine-module': { type: 'string', default: DEFAULT_ENGINE_MODULE },
    sections: { type: 'string', default: SECTIONS.join(',') },
    'chunk-size': { type: 'string', default: '16384' },
    'min-ms': { type: 'string' },
    'probe-bytes': { type: 'string' },
    'handler-elements': { type: 'string' },
    json: { type: 'string' },
    // Internal: the memory measurement's child process.
    'memory-child': { type: 'string' },
  },
  strict: true,
});

const quick = opts.quick;
const ROUNDS = Number(opts.rounds ?? (quick ? 1 : 3));
const CHUNK = Number(opts['chunk-size']);
const MIN_MS = Number(opts['min-ms'] ?? (quick ? 50 : 400));
const PROBE_BYTES = Number(opts['probe-bytes'] ?? (quick ? 4096 : 65536));
const HANDLER_ELEMENTS = Number(opts['handler-elements'] ?? (quick ? 5000 : 50000));
const WORKLOADS = opts.workloads.split(',').map((w) => {
  if (w !== 'none' && w !== 'typical') throw new Error(`--workloads: none or typical, not ${w}`);
  return w as WorkloadName;
});
const SELECTED = opts.engines.split(',').map((e) => {
  if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`--engines: ${ENGINES.join(', ')}, not ${e}`);
  return e as EngineName;
});
const sections = new Set(opts.sections.split(',').map((s) => {
  if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--sections: ${SECTIONS.join(', ')}, not ${s}`);
  return s as Section;
}));

interface Page {
  name: string;
  bytes: Uint8Array;
  chunks: Uint8Array[];
}

function readPages(list: string | undefined): Page[] {
  const names = list ? list.split(',') : readdirSync(PAGES_DIR).filter((f) => f.endsWith('.html')).sort();
  return names.map((n) => {
    const bytes = new Uint8Array(readFileSync(n.includes('/') ? n : new URL(n, PAGES_DIR)));
    return { name: basename(n), bytes, chunks: split(bytes, CHUNK) };
  });
}

const discard = (): void => {};

/** Milliseconds per rewrite, repeating the rewrite for at least MIN_MS. */
async function timeRewrite(engine: BenchEngine, workload: WorkloadName, chunks: readonly Uint8Array[]): Promise<{ ms: number; session: Session }> {
  let runs = 0;
  let session: Session;
  const t0 = performance.now();
  let elapsed: number;
  do {
    session = await rewrite(engine, workload, chunks, discard);
    runs++;
    elapsed = performance.now() - t0;
  } while (elapsed < MIN_MS);
  return { ms: elapsed / runs, session };
}

// ---- engines ----

async function loadEngines(names: readonly EngineName[]): Promise<{ engines: BenchEngine[]; frontlineMissing?: string }> {
  const engines: BenchEngine[] = [];
  let frontlineMissing: string | undefined;
  for (const name of names) {
    if (name === 'frontline') {
      try {
        engines.push(rewriterEngine('frontline', (await loadEngineModule(opts['engine-module'])).factory));
      } catch (e) {
        frontlineMissing = (e as Error).message;
      }
    } else engines.push(name === 'parse5' ? parse5Engine : rewriterEngine('lol-html-wasm', oracleFactory));
  }
  return { engines, frontlineMissing };
}

// ---- the memory child: one engine, one workload, every page twice; one JSON line on stdout ----

if (opts['memory-child'] !== undefined) {
  const [engineName, workload] = opts['memory-child'].split(':') as [EngineName, WorkloadName];
  const [engine] = (await loadEngines([engineName])).engines;
  if (!engine) throw new Error(`memory child: engine ${engineName} not available`);
  const pages = readPages(opts.pages);
  (globalThis as { gc?: () => void }).gc?.();
  const heapNow = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const baseline = { rss: process.memoryUsage().rss, heap: heapNow() };
  let peakHeap = baseline.heap;
  for (let pass = 0; pass < 2; pass++) {
    for (const page of pages) {
      const session = engine.open(workload, discard);
      for (const chunk of page.chunks) {
        const r = session.write(chunk);
        if (r) await r;
        peakHeap = Math.max(peakHeap, heapNow());
      }
      const r = session.end();
      if (r) await r;
      peakHeap = Math.max(peakHeap, heapNow());
    }
  }
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ baselineRss: baseline.rss, peakRss, baselineHeap: baseline.heap, peakHeap })}\n`);
  process.exit(0);
}

// ---- the run ----

const jsonLines: object[] = [];
const emit = (line: object): void => void jsonLines.push(line);
const version = (pkg: string): string =>
  (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;

const pages = readPages(opts.pages);
const { engines, frontlineMissing } = await loadEngines(SELECTED);
const totalBytes = pages.reduce((n, p) => n + p.bytes.length, 0);
const meta = {
  type: 'meta',
  node: process.version,
  cpus: availableParallelism(),
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  versions: { 'html-rewriter-wasm': version('html-rewriter-wasm'), 'parse5-html-rewriting-stream': version('parse5-html-rewriting-stream') },
  engineModule: opts['engine-module'],
  frontline: frontlineMissing === undefined ? 'loaded' : `missing: ${frontlineMissing}`,
  settings: { rounds: ROUNDS, chunkSize: CHUNK, minMs: MIN_MS, probeBytes: PROBE_BYTES, handlerElements: HANDLER_ELEMENTS, workloads: WORKLOADS, pages: pages.map((p) => p.name) },
};
emit(meta);
console.log(`HTML rewriter benchmark — ${pages.length} page(s), ${fmtInt(totalBytes)} bytes, ${CHUNK}-byte chunks, ${ROUNDS} round(s), medians; node ${process.version}, loadavg ${meta.loadavg.join(' ')}`);
console.log(`lol-html-wasm = html-rewriter-wasm ${meta.versions['html-rewriter-wasm']}, parse5 = parse5-html-rewriting-stream ${meta.versions['parse5-html-rewriting-stream']}`);
if (frontlineMissing !== undefined) console.log(`frontline: missing (${frontlineMissing}); only the peers are measured`);

const byName = (name: EngineName): BenchEngine | undefined => engines.find((e) => e.name === name);
const rotate = <T>(list: readonly T[], by: number): T[] => list.map((_, i) => list[(i + by) % list.length]);

// Throughput: ms per page per round; "all pages" = all bytes ÷ the round's summed time.
const throughput = new Map<string, number[]>(); // `${engine}|${workload}|${page}` → MB/s per round
if (sections.has('throughput')) {
  // Warm-up: one untimed measurement each (parse5 needs several rewrites before its JIT settles).
  for (const workload of WORKLOADS) for (const page of pages) for (const engine of engines) await timeRewrite(engine, workload, page.chunks);
  for (let round = 0; round < ROUNDS; round++) {
    const totals = new Map<string, number>();
    for (const workload of WORKLOADS) {
      for (const page of pages) {
        for (const engine of rotate(engines, round)) {
          const { ms } = await timeRewrite(engine, workload, page.chunks);
          const mbps = page.bytes.length / 1e3 / ms;
          push(throughput, `${engine.name}|${workload}|${page.name}`, mbps);
          totals.set(`${engine.name}|${workload}`, (totals.get(`${engine.name}|${workload}`) ?? 0) + ms);
          emit({ type: 'throughput', round, engine: engine.name, workload, page: page.name, bytes: page.bytes.length, ms, mbps });
        }
      }
    }
    for (const [key, ms] of totals) push(throughput, `${key}|all pages`, totalBytes / 1e3 / ms);
  }
  printThroughput();
}

// Handler call: (time with an `a` element handler reading href − time without) ÷ calls.
const handlerCost = new Map<EngineName, { us: number[]; calls: number }>();
if (sections.has('handler')) {
  const doc = new TextEncoder().encode(handlerDocument(HANDLER_ELEMENTS));
  const chunks = split(doc, CHUNK);
  for (const engine of engines) {
    await timeRewrite(engine, 'none', chunks);
    await timeRewrite(engine, 'attr', chunks);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const engine of rotate(engines, round)) {
      const without = await timeRewrite(engine, 'none', chunks);
      const withHandler = await timeRewrite(engine, 'attr', chunks);
      const calls = withHandler.session.calls;
      if (calls !== HANDLER_ELEMENTS) throw new Error(`${engine.name}: ${calls} handler calls, expected ${HANDLER_ELEMENTS}`);
      const us = ((withHandler.ms - without.ms) * 1e3) / calls;
      const entry = handlerCost.get(engine.name) ?? { us: [], calls };
      entry.us.push(us);
      handlerCost.set(engine.name, entry);
      emit({ type: 'handler', round, engine: engine.name, calls, msWithout: without.ms, msWith: withHandler.ms, usPerCall: us });
    }
  }
  printHandler(doc.length);
}

// Latency: 1-byte writes over the first PROBE_BYTES of each page, and the whole page in CHUNK-byte
// writes; after each write, held back = input bytes written − output bytes received (workload
// none, where output = input), compared with the incomplete token at that point.
interface Probe {
  engine: EngineName;
  page: string;
  workload: WorkloadName;
  writeSize: number;
  firstOutputAfter: number | null;
  maxHeldBack: number | null;
  /** Writes after which more than the incomplete token was held back. */
  overOneToken: number | null;
  worstExcess: number | null;
}
const probes: Probe[] = [];
if (sections.has('latency')) {
  for (const page of pages) {
    const starts = await tokenStarts(page.bytes);
    // End the prefix at a token boundary: parse5 drops a tag left unfinished at EOF.
    const prefix = page.bytes.subarray(0, starts.findLast((s) => s <= PROBE_BYTES) || PROBE_BYTES);
    for (const engine of engines) {
      for (const [workload, bytes, size] of [['none', prefix, 1], ['typical', prefix, 1], ['none', page.bytes, CHUNK]] as const) {
        if (workload === 'typical' && !WORKLOADS.includes('typical')) continue;
        const p = await probe(engine, workload, bytes, size, workload === 'none' ? starts : undefined);
        const line: Probe = { engine: engine.name, page: page.name, workload, writeSize: size, ...p };
        probes.push(line);
        emit({ type: 'latency', ...line });
      }
    }
  }
  printLatency();
}

async function probe(engine: BenchEngine, workload: WorkloadName, bytes: Uint8Array, size: number, starts: Int32Array | undefined) {
  let out = 0;
  const session = engine.open(workload, (o) => void (out += typeof o === 'string' ? Buffer.byteLength(o) : o.length));
  let firstOutputAfter: number | null = null;
  let maxHeldBack = 0;
  let overOneToken = 0;
  let worstExcess = 0;
  let tokenIndex = 0;
  for (let at = 0; at < bytes.length; at += size) {
    const end = Math.min(at + size, bytes.length);
    const r = session.write(bytes.subarray(at, end));
    if (r) await r;
    if (firstOutputAfter === null && out > 0) firstOutputAfter = end;
    if (starts) {
      const held = end - out;
      maxHeldBack = Math.max(maxHeldBack, held);
      while (tokenIndex + 1 < starts.length && starts[tokenIndex + 1] <= end) tokenIndex++;
      const incomplete = end - starts[tokenIndex];
      if (held > incomplete) {
        overOneToken++;
        worstExcess = Math.max(worstExcess, held - incomplete);
      }
    }
  }
  const r = session.end();
  if (r) await r;
  if (starts && out !== bytes.length) throw new Error(`${engine.name}: workload none wrote ${out} bytes for ${bytes.length}`);
  return {
    firstOutputAfter,
    maxHeldBack: starts ? maxHeldBack : null,
    overOneToken: starts ? overOneToken : null,
    worstExcess: starts ? worstExcess : null,
  };
}

// Memory: a child process per engine and workload (engines do not share a heap), every page twice.
interface MemoryFigures {
  baselineRss: number;
  peakRss: number;
  baselineHeap: number;
  peakHeap: number;
}
const memory = new Map<string, MemoryFigures>();
if (sections.has('memory')) {
  for (const engine of engines) {
    for (const workload of WORKLOADS) {
      const args = ['--expose-gc', new URL(import.meta.url).pathname, '--memory-child', `${engine.name}:${workload}`, '--engine-module', opts['engine-module'], '--chunk-size', String(CHUNK)];
      if (opts.pages) args.push('--pages', opts.pages);
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`memory child ${engine.name}/${workload} failed: ${r.stderr}`);
      const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as MemoryFigures;
      memory.set(`${engine.name}|${workload}`, figures);
      emit({ type: 'memory', engine: engine.name, workload, ...figures });
    }
  }
  printMemory();
}

printTargets();
if (opts.json === '-') for (const line of jsonLines) console.log(JSON.stringify(line));
else if (opts.json) {
  writeFileSync(opts.json, '');
  for (const line of jsonLines) appendFileSync(opts.json, `${JSON.stringify(line)}\n`);
}

// ---- the tables ----

function handlerDocument(n: number): string {
  const links: string[] = [];
  for (let i = 0; i < n; i++) links.push(`<a href="/p/${i}" class="l">link ${i}</a>\n`);
  return `<!doctype html><html><head><title>links</title></head><body>\n${links.join('')}</body></html>\n`;
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

function mbps(engine: EngineName, workload: WorkloadName, page: string): number | undefined {
  const list = throughput.get(`${engine}|${workload}|${page}`);
  return list ? median(list) : undefined;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`;
}

function printThroughput(): void {
  console.log('\nThroughput, MB/s (input bytes; median of the rounds)');
  const rows: string[][] = [];
  for (const workload of WORKLOADS) {
    for (const page of [...pages.map((p) => p.name), 'all pages']) {
      const [fl, lol, p5] = ENGINES.map((e) => mbps(e, workload, page));
      const target = page !== 'all pages' ? '' : workload === 'none' ? '≥ 1.0× lol' : '≥ 10× lol, ≥ 10× parse5';
      rows.push([workload, page, fmt(fl), fmt(lol), fmt(p5), ratio(fl, lol), ratio(fl, p5), target]);
    }
  }
  table(['workload', 'page', 'frontline', 'lol-html-wasm', 'parse5', 'fl ÷ lol', 'fl ÷ parse5', 'target'], rows);
  for (const workload of WORKLOADS) {
    for (const engine of engines) {
      const total = mbps(engine.name, workload, 'all pages');
      emit({ type: 'summary', engine: engine.name, workload, page: 'all pages', mbps: total });
    }
  }
}

function printHandler(docBytes: number): void {
  console.log(`\nOne element-handler call with an attribute read (\`a\` handler, getAttribute('href'); ${fmtInt(HANDLER_ELEMENTS)} <a href> in ${fmtInt(docBytes)} bytes)`);
  const rows = ENGINES.map((name) => {
    const entry = handlerCost.get(name);
    const us = entry ? median(entry.us) : undefined;
    return [name, '', fmt(us, 3), name === 'frontline' ? '< 1 µs' : ''];
  });
  table(['engine', '', 'µs per call', 'target'], rows);
}

function printLatency(): void {
  console.log(`\nOutput latency: input bytes written before the first output byte (1-byte writes), and input held back after a write (workload none)`);
  const rows: string[][] = [];
  for (const page of pages) {
    for (const name of ENGINES) {
      const find = (workload: WorkloadName, size: number) => probes.find((p) => p.engine === name && p.page === page.name && p.workload === workload && p.writeSize === size);
      const one = find('none', 1);
      const typical = find('typical', 1);
      const big = find('none', CHUNK);
      const tokens = (p: Probe | undefined) => (p === undefined ? '—' : p.overOneToken === 0 ? 'yes' : `no (${p.overOneToken}×, +${p.worstExcess} B)`);
      rows.push([page.name, name, String(one?.firstOutputAfter ?? '—'), String(typical?.firstOutputAfter ?? '—'),
        String(one?.maxHeldBack ?? '—'), String(big?.maxHeldBack ?? '—'), `${tokens(one)} / ${tokens(big)}`]);
    }
  }
  table(['page', 'engine', 'first out (none)', 'first out (typical)', `max held, 1-B writes`, `max held, ${CHUNK}-B writes`, '≤ 1 token held (1 B / chunk)'], rows);
  console.log(`(1-byte writes over the first ${fmtInt(PROBE_BYTES)} bytes of each page; token boundaries from parse5's tokenizer)`);
}

function printMemory(): void {
  console.log('\nPeak memory (a child process per engine and workload; every page twice in chunks)');
  const mb = (n: number) => (n / 1048576).toFixed(1);
  const rows: string[][] = [];
  for (const workload of WORKLOADS) {
    for (const name of ENGINES) {
      const m = memory.get(`${name}|${workload}`);
      rows.push(m ? [workload, name, mb(m.baselineRss), mb(m.peakRss), mb(m.peakRss - m.baselineRss), mb(m.peakHeap - m.baselineHeap)]
        : [workload, name, '—', '—', '—', '—']);
    }
  }
  table(['workload', 'engine', 'RSS before, MiB', 'peak RSS, MiB', 'RSS growth, MiB', 'heap+external growth, MiB'], rows);
}

function printTargets(): void {
  const fl = byName('frontline');
  const lines: [string, string][] = [];
  const check = (ok: boolean | undefined, text: string) => lines.push([ok === undefined ? '—' : ok ? 'met' : 'NOT met', text]);
  const typ = (e: EngineName) => mbps(e, 'typical', 'all pages');
  const none = (e: EngineName) => mbps(e, 'none', 'all pages');
  const known = (a: number | undefined, b: number | undefined) => (fl && a !== undefined && b !== undefined ? a / b : undefined);
  const rTypLol = known(typ('frontline'), typ('lol-html-wasm'));
  const rTypP5 = known(typ('frontline'), typ('parse5'));
  const rNone = known(none('frontline'), none('lol-html-wasm'));
  check(rTypLol === undefined ? undefined : rTypLol >= 10, `typical ≥ 10× lol-html-wasm (${rTypLol === undefined ? '—' : rTypLol.toFixed(2) + '×'})`);
  check(rTypP5 === undefined ? undefined : rTypP5 >= 10, `typical ≥ 10× parse5 (${rTypP5 === undefined ? '—' : rTypP5.toFixed(2) + '×'})`);
  check(rNone === undefined ? undefined : rNone >= 1, `none ≥ 1.0× lol-html-wasm (${rNone === undefined ? '—' : rNone.toFixed(2) + '×'})`);
  const us = fl && handlerCost.get('frontline') ? median(handlerCost.get('frontline')!.us) : undefined;
  check(us === undefined ? undefined : us < 1, `handler call with attribute read < 1 µs (${fmt(us, 3)} µs)`);
  const flProbes = probes.filter((p) => p.engine === 'frontline' && p.overOneToken !== null);
  check(flProbes.length === 0 ? undefined : flProbes.every((p) => p.overOneToken === 0), 'never more than one incomplete token held back');
  console.log(`\nTargets (frontline${fl ? '' : ': missing'})`);
  for (const [status, text] of lines) console.log(`  ${status.padEnd(7)} ${text}`);
  emit({ type: 'targets', targets: lines.map(([status, text]) => ({ status, text })) });
}
