// The rules-engine benchmark: the shared corpus (../shared/rules-language/bench-rules.jsonl
// against bench-requests.jsonl), with parse, compile and execute measured separately, per
// partition of the rules by language feature, beside two baselines measured in the same run: a
// naive tree-walking interpreter (naive.ts) and hand-written closures for a fixed subset
// (handwritten.ts). Every figure is the median of the repeats after the warm-up rounds.
//
//   node bench/rules/run.ts [--requests 400] [--partition-requests 100] [--warmup 5] [--repeats 20]
//                           [--seed 1] [--json out.jsonl]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { astToJson, type FilterAst } from '../../src/rules/ast.ts';
import { compile, type Filter } from '../../src/rules/compile.ts';
import { decodeValue } from '../../src/rules/conformance.ts';
import type { ExecutionContext } from '../../src/rules/context.ts';
import { httpScheme } from '../../src/rules/http-scheme.ts';
import { parse } from '../../src/rules/parser.ts';
import { RuleSet } from '../../src/rules/ruleset.ts';
import { HANDWRITTEN } from './handwritten.ts';
import { interpret } from './naive.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const REQUESTS = option('requests', 400);
const PARTITION_REQUESTS = option('partition-requests', 100);
const WARMUP = option('warmup', 5);
const REPEATS = option('repeats', 20);
const SEED = option('seed', 1);
const jsonIndex = args.indexOf('--json');
const jsonPath = jsonIndex === -1 ? undefined : args[jsonIndex + 1];

const CORPUS = new URL('../../../shared/rules-language/', import.meta.url);
if (!existsSync(new URL('bench-rules.jsonl', CORPUS))) {
  process.stderr.write(`bench/rules needs the corpus in ${CORPUS.pathname} (bench-rules.jsonl, bench-requests.jsonl)\n`);
  process.exit(2);
}
const readLines = (name: string) =>
  readFileSync(new URL(name, CORPUS), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

interface CorpusRule {
  id: string;
  expression: string;
  features: string[];
  ast: FilterAst;
}

// ---- corpus: parse, deduplicate by AST JSON, sample requests ----

const allRules: CorpusRule[] = readLines('bench-rules.jsonl').map((r) => ({
  id: r.id as string,
  expression: r.expression as string,
  features: r.features as string[],
  ast: parse(httpScheme, r.expression as string),
}));
const byJson = new Map<string, CorpusRule>();
for (const rule of allRules) if (!byJson.has(astToJson(rule.ast))) byJson.set(astToJson(rule.ast), rule);
const unique = [...byJson.values()];

const rng = seededRandom(SEED);
const allRequests = readLines('bench-requests.jsonl');
const sample = <T>(items: readonly T[], n: number): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, Math.min(n, copy.length));
};
const sampled = sample(allRequests, REQUESTS);
const ruleSet = new RuleSet(
  httpScheme,
  allRules.map((rule) => ({ id: rule.id, expression: rule.expression, action: { type: 'log' } })),
  { random: seededRandom(SEED + 1) },
);

/** A context per request, filled with the request's values (decoding is not measured). */
function contextFor(request: Record<string, unknown>, set = ruleSet): ExecutionContext {
  const ctx = set.newContext();
  fill(ctx, request);
  return ctx;
}
function fill(ctx: ExecutionContext, request: Record<string, unknown>): void {
  for (const [name, encoded] of Object.entries(request.values as Record<string, unknown>)) {
    ctx.set(name, decodeValue(encoded, httpScheme.field(name)!.type));
  }
}
const contexts = sampled.map((request) => contextFor(request));
const partitionContexts = contexts.slice(0, PARTITION_REQUESTS);

// ---- measurement ----

interface Figure {
  stage: string;
  partition: string;
  figure: string;
  value: number;
  unit: string;
}
const figures: Figure[] = [];
const record = (stage: string, partition: string, figure: string, value: number, unit: string) =>
  figures.push({ stage, partition, figure, value: Math.round(value * 1000) / 1000, unit });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};

/** Runs `round` WARMUP + REPEATS times; returns the median wall and CPU nanoseconds per operation. */
function measure(operations: number, round: () => void): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < WARMUP + REPEATS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    round();
    const wall = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    if (r >= WARMUP) {
      walls.push(wall / operations);
      cpus.push(((cpu.user + cpu.system) * 1000) / operations);
    }
  }
  return { wall: median(walls), cpu: median(cpus) };
}

let sink = 0;
/** Progress on stderr, written synchronously so it is seen as it happens. */
const progress = (text: string) => writeSync(2, text);

// "*" is every rule; the corpus's own feature tags include `all` (the quantifier).
const partitions = new Map<string, CorpusRule[]>([['*', unique]]);
for (const rule of unique) {
  for (const feature of rule.features) {
    const list = partitions.get(feature) ?? [];
    list.push(rule);
    partitions.set(feature, list);
  }
}

progress(
  `corpus: ${allRules.length} rules, ${unique.length} structurally distinct (by AST JSON); ${allRequests.length} requests, ` +
    `${sampled.length} sampled (seed ${SEED}), ${sampled.filter((r) => r.adversarial).length} adversarial; ` +
    `${WARMUP} warm-up rounds, ${REPEATS} repeats\n`,
);

for (const [name, rules] of [...partitions].sort((a, b) => b[1].length - a[1].length)) {
  const parseTime = measure(rules.length, () => {
    for (const rule of rules) sink += parse(httpScheme, rule.expression).root.type.length;
  });
  record('parse', name, 'per_rule', parseTime.wall, 'ns');
  record('parse', name, 'per_rule_cpu', parseTime.cpu, 'ns');
  let compiled: Filter[] = [];
  const compileTime = measure(rules.length, () => {
    compiled = rules.map((rule) => compile(rule.ast, httpScheme));
  });
  record('compile', name, 'per_rule', compileTime.wall, 'ns');
  record('compile', name, 'per_rule_cpu', compileTime.cpu, 'ns');
  const executions = rules.length * partitionContexts.length;
  const executeTime = measure(executions, () => {
    for (const ctx of partitionContexts) for (const filter of compiled) if (filter.execute(ctx)) sink++;
  });
  record('execute', name, 'per_rule', executeTime.wall, 'ns');
  record('execute', name, 'per_rule_cpu', executeTime.cpu, 'ns');
  const naiveTime = measure(executions, () => {
    for (const ctx of partitionContexts) for (const rule of rules) if (interpret(rule.ast, ctx)) sink++;
  });
  record('execute', name, 'naive_per_rule', naiveTime.wall, 'ns');
  record('execute', name, 'speedup_vs_naive', naiveTime.wall / executeTime.wall, 'x');
  progress(`  ${name}: ${rules.length} rules\n`);
}

/** A function that runs `fn` on every context and counts the trues. */
function loopOver(fn: (ctx: ExecutionContext) => boolean): () => number {
  const make = new Function('contexts', 'fn', 'return function loop() { let n = 0; for (let i = 0; i < contexts.length; i++) if (fn(contexts[i])) n++; return n; };');
  return make(contexts, fn) as () => number;
}

// Single rules against their hand-written closures.
for (const [id, hand] of HANDWRITTEN) {
  const rule = allRules.find((r) => r.id === id)!;
  if (rule.expression !== hand.expression) throw new Error(`${id} is no longer ${hand.expression}`);
  const filter = compile(rule.ast, httpScheme);
  for (const ctx of contexts) {
    if (filter.execute(ctx) !== hand.fn(ctx)) throw new Error(`${id}: the hand-written closure disagrees with the compiled rule`);
  }
  // Each loop is its own function, so its call site sees one closure, as a caller of one rule
  // would; the two are measured alternately, three times, and the best median kept.
  const compiledLoop = loopOver(filter.execute);
  const handLoop = loopOver(hand.fn);
  let compiledTime = { wall: Infinity, cpu: Infinity };
  let handTime = { wall: Infinity, cpu: Infinity };
  for (let k = 0; k < 3; k++) {
    const c = measure(contexts.length, () => (sink += compiledLoop()));
    const h = measure(contexts.length, () => (sink += handLoop()));
    if (c.wall < compiledTime.wall) compiledTime = c;
    if (h.wall < handTime.wall) handTime = h;
  }
  record('execute', `handwritten:${id}`, 'compiled', compiledTime.wall, 'ns');
  record('execute', `handwritten:${id}`, 'handwritten', handTime.wall, 'ns');
  record('execute', `handwritten:${id}`, 'ratio', compiledTime.wall / handTime.wall, 'x');
}

// The whole rule set against one request: per request, median over the repeats.
function perRequest(requests: readonly Record<string, unknown>[], evaluate: (ctx: ExecutionContext) => void, contextsFor = contexts, prepare?: () => void): number[] {
  const times = requests.map(() => [] as number[]);
  for (let r = 0; r < WARMUP + REPEATS; r++) {
    for (let i = 0; i < requests.length; i++) {
      const ctx = contextsFor[i];
      ctx.reset();
      fill(ctx, requests[i]);
      prepare?.();
      const t0 = process.hrtime.bigint();
      evaluate(ctx);
      const t = Number(process.hrtime.bigint() - t0);
      if (r >= WARMUP) times[i].push(t);
    }
  }
  return times.map(median);
}
const normal = sampled.map((r, i) => ({ r, i })).filter(({ r }) => !r.adversarial);
const adversarial = sampled.map((r, i) => ({ r, i })).filter(({ r }) => r.adversarial);
// The verdict: the terminal rule and the match bitmap (what the access phase acts on). The list of
// matched rules is built only when read (for logs and counters): measured apart below.
const setTimes = perRequest(sampled, (ctx) => {
  sink += ruleSet.evaluate(ctx).matchCount;
});
const listTimes = perRequest(sampled, (ctx) => {
  sink += ruleSet.evaluate(ctx).matched.length;
});
const matchCounts = sampled.map((request, i) => {
  contexts[i].reset();
  fill(contexts[i], request);
  return ruleSet.evaluate(contexts[i]).matchCount;
});
const cpu0 = process.cpuUsage();
for (let i = 0; i < sampled.length; i++) {
  contexts[i].reset();
  fill(contexts[i], sampled[i]);
}
const cpuFill = process.cpuUsage(cpu0);
const cpu1 = process.cpuUsage();
for (let i = 0; i < sampled.length; i++) {
  contexts[i].reset();
  fill(contexts[i], sampled[i]);
  sink += ruleSet.evaluate(contexts[i]).matchCount;
}
const cpuSet = process.cpuUsage(cpu1);
// The rule set remembers what it decided for values it has seen (user agents and paths recur
// across requests): the same requests again with that forgotten before each, as if every value
// were new.
const firstSightTimes = perRequest(sampled, (ctx) => {
  sink += ruleSet.evaluate(ctx).matchCount;
}, contexts, () => ruleSet.forgetValues());
record('ruleset', '*', 'median_per_request', median(normal.map(({ i }) => setTimes[i])) / 1000, 'us');
record('ruleset', '*', 'with_list_median_per_request', median(normal.map(({ i }) => listTimes[i])) / 1000, 'us');
record('ruleset', '*', 'first_sight_median_per_request', median(normal.map(({ i }) => firstSightTimes[i])) / 1000, 'us');
record('ruleset', '*', 'p99_per_request', percentile(normal.map(({ i }) => setTimes[i]), 0.99) / 1000, 'us');
record('ruleset', 'adversarial', 'median_per_request', median(adversarial.map(({ i }) => setTimes[i])) / 1000, 'us');
record('ruleset', 'adversarial', 'max_per_request', Math.max(...adversarial.map(({ i }) => setTimes[i])) / 1000, 'us');
record('ruleset', '*', 'cpu_per_request', ((cpuSet.user + cpuSet.system - cpuFill.user - cpuFill.system) / sampled.length), 'us');

// Baselines for the whole set: every rule compiled alone, and the naive interpreter (fewer requests: it is slow).
const alone = allRules.map((rule) => compile(rule.ast, httpScheme));
const aloneTimes = perRequest(sampled, (ctx) => {
  for (const filter of alone) if (filter.execute(ctx)) sink++;
});
record('ruleset', '*', 'rules_one_by_one_median', median(normal.map(({ i }) => aloneTimes[i])) / 1000, 'us');
const naiveRequests = sampled.slice(0, 50);
const naiveTimes = perRequest(naiveRequests, (ctx) => {
  for (const rule of allRules) if (interpret(rule.ast, ctx)) sink++;
});
record('ruleset', '*', 'naive_median_50_requests', median(naiveTimes) / 1000, 'us');

// ---- hardware counters ----
let counters: string;
try {
  const out = execFileSync('perf', ['stat', '-x,', '-e', 'instructions:u', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] }).toString();
  counters = /<not (supported|counted)>/.test(out)
    ? 'not available on this machine (perf runs, but this VM exposes no hardware counters: instructions are <not supported>)'
    : 'available: rerun a stage under `perf stat -e instructions:u` for instruction counts';
} catch (error) {
  counters = `not available on this machine (${(error as { code?: string }).code === 'ENOENT' ? 'no perf binary' : 'perf_event_open refused'})`;
}

// ---- output ----
if (jsonPath !== undefined) writeFileSync(jsonPath, figures.map((f) => JSON.stringify({ bench: 'rules', ...f })).join('\n') + '\n');
const get = (stage: string, partition: string, figure: string) => figures.find((f) => f.stage === stage && f.partition === partition && f.figure === figure)?.value;
const rows = [...partitions].sort((a, b) => b[1].length - a[1].length);
let table = '\n| partition | rules | parse ns/rule | compile ns/rule | execute ns/rule | naive ns/rule | speed-up |\n|---|---:|---:|---:|---:|---:|---:|\n';
for (const [name, rules] of rows) {
  table += `| ${name} | ${rules.length} | ${get('parse', name, 'per_rule')} | ${get('compile', name, 'per_rule')} | ${get('execute', name, 'per_rule')} | ${get('execute', name, 'naive_per_rule')} | ${get('execute', name, 'speedup_vs_naive')}× |\n`;
}
table += '\n| rule (hand-written subset) | compiled ns | hand-written ns | ratio |\n|---|---:|---:|---:|\n';
for (const id of HANDWRITTEN.keys()) {
  table += `| ${id} \`${HANDWRITTEN.get(id)!.expression.replace(/\|/g, '\\|')}\` | ${get('execute', `handwritten:${id}`, 'compiled')} | ${get('execute', `handwritten:${id}`, 'handwritten')} | ${get('execute', `handwritten:${id}`, 'ratio')}× |\n`;
}
table += `\n| whole rule set (${allRules.length} rules) against one request | µs |\n|---|---:|\n`;
table += `| rule set, median (${normal.length} requests) | ${get('ruleset', '*', 'median_per_request')} |\n`;
table += `| rule set, median, with the list of matched rules built (${Math.round(median(normal.map(({ i }) => matchCounts[i])))} rules) | ${get('ruleset', '*', 'with_list_median_per_request')} |\n`;
table += `| rule set, median, every value seen for the first time | ${get('ruleset', '*', 'first_sight_median_per_request')} |\n`;
table += `| rule set, p99 | ${get('ruleset', '*', 'p99_per_request')} |\n`;
table += `| rule set, adversarial median (${adversarial.length} requests) | ${get('ruleset', 'adversarial', 'median_per_request')} |\n`;
table += `| rule set, adversarial max | ${get('ruleset', 'adversarial', 'max_per_request')} |\n`;
table += `| rule set, CPU per request (process.cpuUsage) | ${get('ruleset', '*', 'cpu_per_request')} |\n`;
table += `| baseline: every rule compiled alone, median | ${get('ruleset', '*', 'rules_one_by_one_median')} |\n`;
table += `| baseline: naive interpreter, median (50 requests) | ${get('ruleset', '*', 'naive_median_50_requests')} |\n`;
table += `\nhardware instruction counts: ${counters}\n`;
process.stdout.write(table);
if (sink === -1) process.stdout.write('');
