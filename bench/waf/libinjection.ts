// The libinjection port's speed: detectSqli and detectXss over every input of
// ../shared/libinjection/reference-verdicts.jsonl (24,501 inputs: attacks, near misses, benign
// values, byte-level probes), and over its benign values alone (what most request arguments look
// like). Inputs are decoded to binary strings before timing. Figures are µs per input: the median
// (and the minimum) of the repeats after the warm-up rounds, in wall-clock time and in this
// thread's CPU time.
//
//   node bench/waf/libinjection.ts [--warmup 5] [--repeats 15]
import { existsSync, readFileSync } from 'node:fs';
import { detectSqli, detectXss } from '../../src/waf/libinjection/index.ts';
import { inputBytes, parseVerdictLine } from '../../src/waf/libinjection/conformance.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const WARMUP = option('warmup', 5);
const REPEATS = option('repeats', 15);

const REFERENCE = new URL('../../../shared/libinjection/reference-verdicts.jsonl', import.meta.url);
if (!existsSync(REFERENCE)) {
  process.stderr.write(`bench/waf/libinjection needs ${REFERENCE.pathname}\n`);
  process.exit(2);
}

const all: string[] = [];
const benign: string[] = [];
for (const text of readFileSync(REFERENCE, 'utf8').split('\n')) {
  if (text === '') continue;
  const line = parseVerdictLine(text);
  const bytes = inputBytes(line);
  all.push(bytes);
  if ((JSON.parse(text) as { src?: string }).src?.startsWith('generated:benign-')) benign.push(bytes);
}

/** Keeps results observable so that no call can be optimised away. */
let sink = 0;

const detectors: readonly (readonly [name: string, run: (input: string) => void])[] = [
  ['detectSqli', (input) => (sink += detectSqli(input).sqli ? 1 : 0)],
  ['detectXss', (input) => (sink += detectXss(input) ? 1 : 0)],
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Repeat {
  /** Wall-clock µs per input. */
  readonly wall: number;
  /** This thread's CPU µs per input: what other processes on a shared machine disturb least. */
  readonly cpu: number;
}

/** Calls per round at least: rounds must last far longer than the CPU clock's tick. */
const MIN_CALLS_PER_ROUND = 25_000;

function measure(run: (input: string) => void, inputs: readonly string[]): Repeat[] {
  const passes = Math.ceil(MIN_CALLS_PER_ROUND / inputs.length);
  const calls = passes * inputs.length;
  const repeats: Repeat[] = [];
  for (let round = 0; round < WARMUP + REPEATS; round++) {
    const cpuBefore = process.threadCpuUsage();
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < passes; pass++) for (let i = 0; i < inputs.length; i++) run(inputs[i]);
    const wall = Number(process.hrtime.bigint() - start) / 1000;
    const cpu = process.threadCpuUsage(cpuBefore);
    if (round >= WARMUP) repeats.push({ wall: wall / calls, cpu: (cpu.user + cpu.system) / calls });
  }
  return repeats;
}

const averageBytes = (inputs: readonly string[]): number => inputs.reduce((sum, input) => sum + input.length, 0) / inputs.length;
const sets: readonly (readonly [name: string, inputs: readonly string[]])[] = [
  ['all reference inputs', all],
  ['benign values only', benign],
];

process.stdout.write(`node ${process.version}, ${WARMUP} warm-up rounds, median of ${REPEATS} repeats\n\n`);
process.stdout.write('| detector | inputs | count | mean bytes | µs / input, wall (median) | min | µs / input, thread CPU (median) | min |\n');
process.stdout.write('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const [detectorName, run] of detectors) {
  for (const [setName, inputs] of sets) {
    const repeats = measure(run, inputs);
    const wall = repeats.map((r) => r.wall);
    const cpu = repeats.map((r) => r.cpu);
    const cells = [median(wall), Math.min(...wall), median(cpu), Math.min(...cpu)].map((us) => us.toFixed(3));
    process.stdout.write(`| ${detectorName} | ${setName} | ${inputs.length} | ${averageBytes(inputs).toFixed(0)} | ${cells.join(' | ')} |\n`);
  }
}
if (sink < 0) process.stdout.write('unreachable\n');
