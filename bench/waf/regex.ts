// Every @rx pattern of OWASP CRS on three regex engines, measured in one run: this project's
// linear-time engine (src/rules/regex via operatorRegex: test(), and captures() apart), V8's
// backtracking irregexp (`new RegExp`), V8's linear engine (the `l` flag, behind
// --enable-experimental-regexp-engine), and irregexp with V8's automatic fallback to the linear
// engine after too many backtracks (--enable-experimental-regexp-engine-on-excessive-backtracks).
//
// Each engine runs in a child process of its own (V8 flags are per process, and each compiles the
// set cold). Per engine: how many patterns it accepts; the CPU time to compile the whole set (with
// the first two calls, where V8 compiles lazily); CPU ns per call, the median of the repeats, on
// benign values and on attack payloads from CRS's regression tests (URL-decoded); and each
// pattern's worst adversarial input (test/helpers/crs-rx.ts), run in a worker thread that is
// terminated when a pattern takes longer than the deadline.
//
//   node bench/waf/regex.ts [--repeats 5] [--ms 1] [--attacks 120] [--adversarial-size 2048]
//                           [--deadline-ms 500] [--only ours,irregexp,…] [--json out.jsonl]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parse as parseYaml } from 'yaml';
import { operatorRegex } from '../../src/waf/regex.ts';
import { adversarialInputs, CRS_DIR, crsAbsent, type CrsPattern, crsRxPatterns } from '../../test/helpers/crs-rx.ts';
import { toJavaScript } from './regex-js.ts';

const ENGINES = [
  { name: 'ours', label: 'ours test()', v8Flags: [] },
  { name: 'ours-captures', label: 'ours captures()', v8Flags: [] },
  { name: 'irregexp', label: 'V8 irregexp', v8Flags: [] },
  { name: 'linear', label: 'V8 linear (l)', v8Flags: ['--enable-experimental-regexp-engine'] },
  { name: 'fallback', label: 'V8 irregexp+fallback', v8Flags: ['--enable-experimental-regexp-engine-on-excessive-backtracks'] },
] as const;
type EngineName = (typeof ENGINES)[number]['name'];

interface Settings {
  readonly repeats: number;
  /** CPU time each timed loop lasts at least. */
  readonly windowMs: number;
  readonly attacks: number;
  readonly adversarialSize: number;
  readonly deadlineMs: number;
}

/** What the parent hands each engine's process (on stdin) and each adversarial worker. */
interface Job {
  readonly engine: EngineName;
  readonly settings: Settings;
  readonly patterns: readonly CrsPattern[];
  readonly benign: readonly string[];
  readonly attacks: readonly string[];
}

interface PatternResult {
  /** Why the engine does not take the pattern; the other fields are then absent. */
  readonly error?: string;
  readonly benignNs?: number;
  readonly attackNs?: number;
  /** '1'/'0' per corpus value (benign then attacks): did it match? */
  readonly matches?: string;
  readonly adversarialWorstMs?: number;
  readonly adversarialWorstInput?: string;
  /** The adversarial inputs took longer than the deadline: the worker was terminated. */
  readonly adversarialTimedOut?: boolean;
}

interface EngineReport {
  readonly engine: EngineName;
  readonly compileMs: number;
  /** Linear engine only: the patterns it takes as translated with the `i` flag (it rejects that flag). */
  readonly acceptedWithCaseFlag?: number;
  readonly patterns: readonly PatternResult[];
}

interface AdversarialMessage {
  readonly index: number;
  readonly worstMs: number;
  readonly worstInput: string;
}

type Matcher = (value: string) => boolean;

/** The engine's compiled pattern, as the WAF would call it; throws when the engine rejects it. */
function compile(engine: EngineName, pattern: string): Matcher {
  switch (engine) {
    case 'ours': {
      const regex = operatorRegex(pattern);
      return (value) => regex.test(value);
    }
    case 'ours-captures': {
      const regex = operatorRegex(pattern);
      return (value) => regex.captures(value) !== null;
    }
    case 'irregexp': {
      const { source, flags } = toJavaScript(pattern, false);
      const regexp = new RegExp(source, flags);
      return (value) => regexp.test(value);
    }
    case 'linear':
    case 'fallback': {
      // Case spelled out: neither the `l` flag nor the fallback takes a pattern with the `i` flag.
      const { source, flags } = toJavaScript(pattern, true);
      const regexp = new RegExp(source, engine === 'linear' ? `${flags}l` : flags);
      return (value) => regexp.test(value);
    }
  }
}

const SHORT_VALUE = 'id=42';

/** Keeps results observable so that no call can be optimised away. */
let sink = 0;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function cpuNs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

/** CPU ns per call over `values`: the median of the repeats, each looping for at least the window. */
function nsPerCall(match: Matcher, values: readonly string[], settings: Settings): number {
  const pass = () => {
    for (const value of values) if (match(value)) sink++;
  };
  const passes = Math.max(1, Math.ceil((settings.windowMs * 1e6) / Math.max(1, cpuNs(pass))));
  const samples: number[] = [];
  for (let r = 0; r < settings.repeats; r++) {
    samples.push(
      cpuNs(() => {
        for (let k = 0; k < passes; k++) pass();
      }) /
        (passes * values.length),
    );
  }
  return median(samples);
}

/** One engine, in its own process: compile, then time every pattern, then the adversarial inputs. */
async function runEngine(job: Job): Promise<EngineReport> {
  const matchers: (Matcher | string)[] = [];
  const compileMs =
    cpuNs(() => {
      for (const { pattern } of job.patterns) {
        try {
          const match = compile(job.engine, pattern);
          match(SHORT_VALUE);
          match(SHORT_VALUE);
          matchers.push(match);
        } catch (error) {
          matchers.push((error as Error).message);
        }
      }
    }) / 1e6;
  const corpus = [...job.benign, ...job.attacks];
  const patterns: PatternResult[] = matchers.map((match) => {
    if (typeof match === 'string') return { error: match };
    const matches = corpus.map((value) => (match(value) ? '1' : '0')).join('');
    return {
      benignNs: nsPerCall(match, job.benign, job.settings),
      attackNs: nsPerCall(match, job.attacks, job.settings),
      matches,
    };
  });
  const adversarial = await runAdversarial(job, matchers.map((match) => typeof match !== 'string'));
  const acceptedWithCaseFlag =
    job.engine === 'linear'
      ? job.patterns.filter(({ pattern }) => {
          const { source, flags } = toJavaScript(pattern, false);
          try {
            new RegExp(source, `${flags}l`);
            return true;
          } catch {
            return false;
          }
        }).length
      : undefined;
  return {
    engine: job.engine,
    compileMs,
    acceptedWithCaseFlag,
    patterns: patterns.map((result, index) => ({ ...result, ...adversarial.get(index) })),
  };
}

/**
 * Each accepted pattern's adversarial inputs, in a worker thread; a pattern that runs past the
 * deadline is marked timed out, the worker terminated (V8 interrupts the running RegExp) and a
 * new one started at the next pattern.
 */
function runAdversarial(job: Job, accepted: readonly boolean[]): Promise<Map<number, Partial<PatternResult>>> {
  const results = new Map<number, Partial<PatternResult>>();
  const indexes = accepted.flatMap((ok, index) => (ok ? [index] : []));
  return new Promise((resolve, reject) => {
    const start = (from: number) => {
      if (from >= indexes.length) {
        resolve(results);
        return;
      }
      const worker = new Worker(new URL(import.meta.url), { workerData: { job, indexes: indexes.slice(from) } });
      let next = from;
      let timer: NodeJS.Timeout;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          results.set(indexes[next], { adversarialTimedOut: true, adversarialWorstMs: job.settings.deadlineMs });
          worker.removeAllListeners();
          void worker.terminate().then(() => start(next + 1), reject);
        }, job.settings.deadlineMs);
      };
      worker.on('message', (message: AdversarialMessage | 'ready') => {
        // The clock starts once the worker has loaded its modules.
        if (message === 'ready') {
          arm();
          return;
        }
        results.set(message.index, { adversarialWorstMs: message.worstMs, adversarialWorstInput: message.worstInput });
        next++;
        arm();
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        clearTimeout(timer);
        if (next >= indexes.length) resolve(results);
      });
    };
    start(0);
  });
}

function adversarialWorker(job: Job, indexes: readonly number[]): void {
  parentPort!.postMessage('ready');
  for (const index of indexes) {
    const { pattern } = job.patterns[index];
    // Inputs are built before the pattern is compiled, so the deadline is all matching.
    const inputs = adversarialInputs(pattern, job.settings.adversarialSize);
    const match = compile(job.engine, pattern);
    let worst = { ms: 0, input: '' };
    for (const { name, value } of inputs) {
      const start = performance.now();
      if (match(value)) sink++;
      const ms = performance.now() - start;
      if (ms > worst.ms) worst = { ms, input: name };
    }
    parentPort!.postMessage({ index, worstMs: worst.ms, worstInput: worst.input } satisfies AdversarialMessage);
  }
}

// ---- the parent: corpus, one process per engine, tables ----

/** `%HH` → the byte, `+` → space, over a binary string. */
function urlDecode(bytes: string): string {
  return bytes.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Argument values of a query string or urlencoded body, decoded to binary strings. */
function argumentValues(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8').toString('latin1');
  return bytes.split('&').map((pair) => urlDecode(pair.includes('=') ? pair.slice(pair.indexOf('=') + 1) : pair));
}

interface RegressionStage {
  readonly input?: { readonly data?: unknown; readonly uri?: unknown };
}

/** `count` attack values from CRS's regression tests: `data` and query values, spread evenly over the tests. */
function attackCorpus(count: number): string[] {
  const root = `${CRS_DIR}tests/regression/tests`;
  const values = new Set<string>();
  for (const dir of readdirSync(root).sort()) {
    for (const file of readdirSync(`${root}/${dir}`).sort()) {
      if (!file.endsWith('.yaml')) continue;
      const document = parseYaml(readFileSync(`${root}/${dir}/${file}`, 'utf8')) as { tests?: { stages?: RegressionStage[] }[] } | null;
      for (const stage of (document?.tests ?? []).flatMap((test) => test.stages ?? [])) {
        const { data, uri } = stage.input ?? {};
        const texts = [typeof data === 'string' ? data : '', typeof uri === 'string' && uri.includes('?') ? uri.slice(uri.indexOf('?') + 1) : ''];
        for (const value of texts.flatMap(argumentValues)) if (value.length >= 4 && value.length <= 4096) values.add(value);
      }
    }
  }
  const all = [...values];
  const step = Math.max(1, all.length / count);
  return Array.from({ length: Math.min(count, all.length) }, (_, i) => all[Math.floor(i * step)]);
}

const FORM_TEXT =
  'Hello team,\r\n\r\nThanks for the quick reply. I tried the steps from your message (clearing the cache, signing out and ' +
  'back in) but the order page still shows "payment pending" for order #18-2291. My card was charged \xe2\x82\xac49.90 on ' +
  'Monday and the bank says the transaction is complete. Could you check whether the payment callback reached your side? ' +
  'I am happy to send a screenshot of the statement if that helps. ';

/** What request arguments, cookies and headers usually carry (binary strings). */
const BENIGN: readonly string[] = [
  'blue running shoes size 42',
  '2026-04-18',
  'john.doe@example.com',
  'https://www.example.com/products/outdoor/tents?ref=newsletter&utm_source=email',
  '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  '{"cart":[{"sku":"TNT-2P-UL","qty":1},{"sku":"SLP-BAG-10C","qty":2}],"coupon":null}',
  '_ga=GA1.2.1234567890.1700000000; session_id=3b1f0c9e7a2d4e8f; theme=dark; consent=necessary,analytics',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  "O'Brien & Sons, 12 Harbour Rd., Dublin",
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  FORM_TEXT.repeat(3).slice(0, 1024),
];

function engineProcess(job: Job): EngineReport {
  const engine = ENGINES.find(({ name }) => name === job.engine)!;
  const child = spawnSync(process.execPath, [...engine.v8Flags, fileURLToPath(import.meta.url), '--engine', job.engine], {
    input: JSON.stringify(job),
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`the ${job.engine} process failed (status ${child.status}, signal ${child.signal})`);
  return JSON.parse(child.stdout.toString('utf8')) as EngineReport;
}

/** ns per call over the whole corpus, benign and attack values together. */
const allNs = (result: PatternResult, corpus: Pick<Job, 'benign' | 'attacks'>) =>
  result.benignNs === undefined || result.attackNs === undefined
    ? undefined
    : (result.benignNs * corpus.benign.length + result.attackNs * corpus.attacks.length) / (corpus.benign.length + corpus.attacks.length);

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
const mean = (values: readonly number[]) => sum(values) / values.length;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

const ns = (value: number | undefined) => (value === undefined ? '–' : value >= 10_000 ? `${(value / 1000).toFixed(0)} µs` : `${value.toFixed(0)} ns`);
const ms = (value: number | undefined, timedOut = false) => (value === undefined ? '–' : `${timedOut ? '>' : ''}${value.toFixed(value < 10 ? 2 : 0)} ms`);

function parent(args: readonly string[]): void {
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : args[i + 1];
  };
  const settings: Settings = {
    repeats: Number(option('repeats', '5')),
    windowMs: Number(option('ms', '1')),
    attacks: Number(option('attacks', '120')),
    adversarialSize: Number(option('adversarial-size', '2048')),
    deadlineMs: Number(option('deadline-ms', '500')),
  };
  const only = option('only', '').split(',').filter((name) => name !== '');
  const engines = ENGINES.filter(({ name }) => only.length === 0 || only.includes(name));
  const jsonPath = option('json', '');
  if (crsAbsent !== false) {
    process.stderr.write(`bench/waf/regex needs CRS: ${crsAbsent}\n`);
    process.exit(2);
  }
  const patterns = crsRxPatterns();
  const base = { settings, patterns, benign: BENIGN.map((text) => Buffer.from(text, 'latin1').toString('latin1')), attacks: attackCorpus(settings.attacks) };
  const reports = new Map<EngineName, EngineReport>();
  for (const { name } of engines) {
    process.stderr.write(`${name}…\n`);
    reports.set(name, engineProcess({ ...base, engine: name }));
  }
  const ours = reports.get('ours');
  const common = patterns.map((_, index) => [...reports.values()].every((report) => report.patterns[index].error === undefined));
  const commonCount = common.filter(Boolean).length;

  console.log(
    `node ${process.version} (V8 ${process.versions.v8}), ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}; ${patterns.length} distinct @rx patterns in CRS; ` +
      `${base.benign.length} benign values, ${base.attacks.length} attack values; CPU time per call, median of ${settings.repeats} repeats of ≥ ${settings.windowMs} ms\n`,
  );
  const summaries = engines.map(({ name, label, v8Flags }) => {
    const report = reports.get(name)!;
    const results = report.patterns;
    const picked = (pick: (result: PatternResult) => number | undefined, subset: (index: number) => boolean = () => true) =>
      results.flatMap((result, index) => (subset(index) && pick(result) !== undefined ? [pick(result)!] : []));
    const allPerPattern = picked((result) => allNs(result, base));
    const adversarial = picked((result) => result.adversarialWorstMs);
    return {
      engine: name,
      label,
      v8Flags,
      accepted: allPerPattern.length,
      acceptedWithCaseFlag: report.acceptedWithCaseFlag,
      compileMs: report.compileMs,
      benignNs: mean(picked((result) => result.benignNs)),
      attackNs: mean(picked((result) => result.attackNs)),
      medianPatternNs: median(allPerPattern),
      everyPatternUs: sum(allPerPattern) / 1000,
      commonPatternsUs: sum(picked((result) => allNs(result, base), (index) => common[index])) / 1000,
      disagreements:
        ours === undefined
          ? undefined
          : results.filter((result, index) => result.matches !== undefined && ours.patterns[index].matches !== undefined && result.matches !== ours.patterns[index].matches).length,
      adversarialMedianMs: median(adversarial),
      adversarialMaxMs: Math.max(...adversarial),
      adversarialOver10Ms: adversarial.filter((value) => value > 10).length,
      adversarialOver100Ms: adversarial.filter((value) => value > 100).length,
      adversarialTimedOut: results.flatMap((result, index) => (result.adversarialTimedOut === true ? [patterns[index].ruleIds[0]] : [])),
    };
  });

  console.log('ns per call: mean over the patterns (benign, attack), median pattern; µs per value: every accepted pattern once, summed');
  console.log(
    table(
      ['engine', 'accepts', 'compile set', 'benign', 'attack', 'median pattern', 'µs per value', `µs, ${commonCount} common`, 'differ from ours'],
      summaries.map((s) => [
        s.label,
        `${s.accepted}${s.acceptedWithCaseFlag === undefined ? '' : ` (${s.acceptedWithCaseFlag} with i flag)`}`,
        ms(s.compileMs),
        ns(s.benignNs),
        ns(s.attackNs),
        ns(s.medianPatternNs),
        `${s.everyPatternUs.toFixed(1)} µs`,
        `${s.commonPatternsUs.toFixed(1)} µs`,
        s.disagreements === undefined ? '–' : `${s.disagreements} patterns`,
      ]),
    ),
  );
  console.log(`\nadversarial inputs of ${settings.adversarialSize} bytes (test/helpers/crs-rx.ts): the worst one per pattern, wall time of one call; deadline ${settings.deadlineMs} ms per pattern`);
  console.log(
    table(
      ['engine', 'median', 'max', '> 10 ms', '> 100 ms', 'past deadline'],
      summaries.map((s) => [
        s.label,
        ms(s.adversarialMedianMs),
        ms(s.adversarialMaxMs, s.adversarialTimedOut.length > 0),
        `${s.adversarialOver10Ms}`,
        `${s.adversarialOver100Ms}`,
        `${s.adversarialTimedOut.length}`,
      ]),
    ),
  );
  for (const s of summaries) if (s.adversarialTimedOut.length > 0) console.log(`  past the deadline on ${s.label}: rules ${s.adversarialTimedOut.join(', ')}`);

  const rules = (index: number) => {
    const ids = patterns[index].ruleIds;
    return ids.length > 2 ? `${ids.slice(0, 2).join(',')},…` : ids.join(',');
  };
  const patternHeader = ['rule', 'length', ...engines.map(({ label }) => label), 'adv. ours', 'adv. irregexp'];
  const patternRow = (index: number) => [
    rules(index),
    `${patterns[index].pattern.length}`,
    ...engines.map(({ name }) => ns(allNs(reports.get(name)!.patterns[index], base))),
    ms(ours?.patterns[index].adversarialWorstMs),
    ms(reports.get('irregexp')?.patterns[index].adversarialWorstMs, reports.get('irregexp')?.patterns[index].adversarialTimedOut),
  ];
  const costliest = (engine: EngineName, count: number) => {
    const results = reports.get(engine)?.patterns;
    if (results === undefined) return [];
    return patterns
      .map((_, index) => index)
      .sort((a, b) => (allNs(results[b], base) ?? 0) - (allNs(results[a], base) ?? 0))
      .slice(0, count);
  };
  const listed = (title: string, indexes: readonly number[]) => {
    if (indexes.length > 0) console.log(`\n${title} (ns per call over all values; adv. = worst adversarial input):\n${table(patternHeader, indexes.map(patternRow))}`);
  };
  listed('the 20 most expensive patterns for ours test()', costliest('ours', 20));
  listed('the 10 most expensive for ours captures()', costliest('ours-captures', 10));
  listed('the 10 most expensive for V8 irregexp', costliest('irregexp', 10));
  const irregexp = reports.get('irregexp');
  if (ours !== undefined && irregexp !== undefined) {
    const ratio = (index: number) => (allNs(ours.patterns[index], base) ?? 0) / (allNs(irregexp.patterns[index], base) ?? Infinity);
    const slower = patterns.map((_, index) => index).sort((a, b) => ratio(b) - ratio(a));
    console.log('\nwhere ours test() is slowest next to irregexp (ratio of ns per call):');
    console.log(table(['ratio', ...patternHeader], slower.slice(0, 10).map((index) => [`${ratio(index).toFixed(1)}×`, ...patternRow(index)])));
  }

  if (jsonPath !== '') {
    const lines = [
      { type: 'meta', node: process.version, v8: process.versions.v8, cpus: cpus().length, loadavg: loadavg(), settings, patterns: patterns.length, benign: base.benign.length, attacks: base.attacks.length },
      ...summaries.map((summary) => ({ type: 'engine', ...summary })),
      ...engines.flatMap(({ name }) =>
        reports.get(name)!.patterns.map((result, index) => ({
          type: 'pattern',
          engine: name,
          ruleIds: patterns[index].ruleIds,
          length: patterns[index].pattern.length,
          error: result.error,
          benignNs: result.benignNs,
          attackNs: result.attackNs,
          allNs: allNs(result, base),
          adversarialWorstMs: result.adversarialWorstMs,
          adversarialWorstInput: result.adversarialWorstInput,
          adversarialTimedOut: result.adversarialTimedOut,
        })),
      ),
    ];
    writeFileSync(jsonPath, lines.map((line) => JSON.stringify({ bench: 'waf-regex', ...line })).join('\n') + '\n');
  }
}

if (!isMainThread) {
  const { job, indexes } = workerData as { job: Job; indexes: number[] };
  adversarialWorker(job, indexes);
} else if (process.argv.includes('--engine')) {
  const job = JSON.parse(readFileSync(0, 'utf8')) as Job;
  process.stdout.write(JSON.stringify(await runEngine(job)));
} else {
  parent(process.argv.slice(2));
}
