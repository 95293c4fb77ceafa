// Differential checker: frontline's HTMLRewriter against the oracle (html-rewriter-wasm, lol-html
// of early 2022) on seeded random cases — documents from the html5lib tree-construction inputs,
// lol-html's regression inputs and a generator; selectors from SPEC.md §5.1; mutation programs
// over every mutation of §4; random chunk splits, cut differently on each side. Output bytes,
// handler logs and errors are compared; each disagreement is printed with its document minimised.
//
//   npm run html:diff -- [--cases 500] [--seed 1] [--engine-module src/html/index.ts]
//                        [--profile safe|full] [--case K] [--show 10]
//   npm run html:diff -- --engine-module test/html/fixtures/oracle-engine.ts     # self-check
import { parseArgs } from 'node:util';
import { DEFAULT_ENGINE_MODULE, loadEngineModule, oracleFactory } from '../test/helpers/html-rewriter-module.ts';
import { checkCase, formatDisagreement, minimise } from './html-diff/check.ts';
import { loadCorpus } from './html-diff/corpus.ts';
import { generateCase, type Profile } from './html-diff/generate.ts';
import { Random, caseSeed } from './html-diff/random.ts';

const { values: opts } = parseArgs({
  options: {
    cases: { type: 'string', default: '500' },
    seed: { type: 'string', default: '1' },
    'engine-module': { type: 'string', default: DEFAULT_ENGINE_MODULE },
    profile: { type: 'string', default: 'safe' },
    case: { type: 'string' },
    show: { type: 'string', default: '10' },
  },
  strict: true,
});

const profile = opts.profile as Profile;
if (profile !== 'safe' && profile !== 'full') throw new Error(`--profile: safe or full, not ${opts.profile}`);
const seed = Number(opts.seed);
const show = Number(opts.show);
const indices = opts.case !== undefined ? [Number(opts.case)] : Array.from({ length: Number(opts.cases) }, (_, i) => i);

let candidate;
try {
  candidate = await loadEngineModule(opts['engine-module']);
} catch (e) {
  console.error(`html-diff: ${(e as Error).message}`);
  console.error('(for a self-check of the tool: --engine-module test/html/fixtures/oracle-engine.ts)');
  process.exit(2);
}
const corpus = loadCorpus();
console.log(`html-diff: ${indices.length} case(s), seed ${seed}, profile ${profile}; reference html-rewriter-wasm, candidate ${candidate.path} (${candidate.shape} API)`);
if (corpus.html5lib.length === 0) console.log('(../shared/html-rewriter is absent: generated documents only)');

let agreed = 0;
let disagreed = 0;
const kinds = new Map<string, number>();
for (const index of indices) {
  const c = generateCase(new Random(caseSeed(seed, index)), profile, corpus);
  const d = await checkCase(c, oracleFactory, candidate.factory);
  if (!d) {
    agreed++;
    continue;
  }
  disagreed++;
  kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  if (disagreed <= show) {
    const small = await minimise(c, oracleFactory, candidate.factory);
    const rerun = `npm run html:diff -- --seed ${seed} --case ${index} --profile ${profile} --engine-module ${opts['engine-module']}`;
    console.log(`\n${formatDisagreement(index, c, small.case, small.disagreement, rerun)}`);
  }
}
if (disagreed > show) console.log(`\n(${disagreed - show} more disagreement(s) not shown; --show N)`);
const byKind = [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
console.log(`\n${agreed} agreed, ${disagreed} disagreed${byKind ? ` (${byKind})` : ''}`);
process.exitCode = disagreed === 0 ? 0 : 1;
