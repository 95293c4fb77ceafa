// The SecLang transformations (src/waf/transformations): nanoseconds per call of each one, and of
// CRS's most common chains, on three realistic values: a plain ASCII query value (nothing to
// decode, the common case), an encoded attack string, and a 1 KB URL-encoded form value. Each
// result is searched once, as a rule's operator would, so that strings V8 joins lazily are paid
// for here. Every figure is CPU time, the best of the rounds (each measures every cell once, so a
// burst of load elsewhere touches all cells alike), after a warm-up window.
//
//   node bench/waf/transformations.ts [--ms 20] [--repeats 7] [--only urldecodeuni,lowercase]
import { TRANSFORMATIONS, type Transformation } from '../../src/waf/transformations/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const WINDOW_MS = Number(option('ms', '20'));
const REPEATS = Number(option('repeats', '7'));
const ONLY = option('only', '')
  .split(',')
  .filter((name) => name !== '')
  .map((name) => name.toLowerCase());

/** A binary string with its own flat storage, as values arrive from the request parser. */
const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');

const FORM_TEXT =
  'Hello+team%2C%0D%0A%0D%0AThanks+for+the+quick+reply.+I+tried+the+steps+from+your+message+' +
  '%28clearing+the+cache%2C+signing+out+and+back+in%29+but+the+order+page+still+shows+%22payment+' +
  'pending%22+for+order+%2318-2291.+My+card+was+charged+%E2%82%AC49.90+on+Monday+and+the+bank+' +
  'says+the+transaction+is+complete.+Could+you+check+whether+the+payment+callback+reached+your+' +
  'side%3F+I+am+happy+to+send+a+screenshot+of+the+statement+if+that+helps.+';

const INPUTS: readonly { name: string; value: string }[] = [
  { name: 'plain query value', value: flat('blue running shoes size 42') },
  {
    name: 'encoded attack',
    value: flat("%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E&#x3c;img src=x onerror=\\u0061lert(1)&gt; ' UNION/**/SELECT 1,2 -- %u0027"),
  },
  { name: '1 KB form value', value: flat(FORM_TEXT.repeat(4).slice(0, 1024)) },
];

/** CRS's most applied chains, by the rules that apply them. */
const CHAINS: readonly { name: string; steps: readonly string[] }[] = [
  { name: 'chain urlDecodeUni,htmlEntityDecode,lowercase', steps: ['urldecodeuni', 'htmlentitydecode', 'lowercase'] },
  {
    name: 'chain XSS (941100…): utf8toUnicode…removeNulls',
    steps: ['utf8tounicode', 'urldecodeuni', 'htmlentitydecode', 'jsdecode', 'cssdecode', 'removenulls'],
  },
];

const CANDIDATES: { name: string; run: Transformation }[] = [
  ...[...TRANSFORMATIONS].filter(([name]) => !['normalisepath', 'normalisepathwin'].includes(name)).map(([name, run]) => ({ name, run })),
  ...CHAINS.map(({ name, steps }) => {
    const functions = steps.map((step) => TRANSFORMATIONS.get(step)!);
    return { name, run: (input: string) => functions.reduce((value, step) => step(value), input) };
  }),
].filter(({ name }) => ONLY.length === 0 || ONLY.some((wanted) => name.includes(wanted)));

let sink = 0;

/**
 * CPU nanoseconds per call of run(input), over a window of about WINDOW_MS of CPU time (CPU time,
 * because other work on a shared machine inflates wall time).
 */
function measure(run: Transformation, input: string): number {
  let calls = 1;
  for (;;) {
    const start = process.cpuUsage();
    for (let k = 0; k < calls; k++) sink += run(input).indexOf('\x01');
    const used = process.cpuUsage(start);
    const elapsedNs = (used.user + used.system) * 1000;
    if (elapsedNs >= WINDOW_MS * 1e6) return elapsedNs / calls;
    calls = elapsedNs < 1e6 ? calls * 10 : Math.ceil((calls * WINDOW_MS * 1e6) / elapsedNs);
  }
}

const samples = CANDIDATES.map(() => INPUTS.map((): number[] => []));
for (const { run } of CANDIDATES) for (const { value } of INPUTS) measure(run, value);
for (let round = 0; round < REPEATS; round++) {
  for (const [row, { run }] of CANDIDATES.entries()) {
    for (const [column, { value }] of INPUTS.entries()) samples[row][column].push(measure(run, value));
  }
}
const header = ['transformation', ...INPUTS.map(({ name, value }) => `${name} (${value.length} B)`)];
const rows = CANDIDATES.map(({ name }, row) => [name, ...samples[row].map((cell) => `${Math.min(...cell).toFixed(0)} ns`)]);

const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
console.log(`node ${process.version}: CPU ns per call, best of ${REPEATS} rounds of ${WINDOW_MS} ms windows`);
console.log(line(header));
for (const row of rows) console.log(line(row));
