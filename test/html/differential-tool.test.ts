// Tests of the HTML rewriter's measuring and comparing tools: the differential checker
// (scripts/html-diff*) and the benchmark's workloads and runner (bench/html/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { DEFAULT_ENGINE_MODULE, engineModulePath, loadEngineModule, oracleFactory, type RewriterFactory } from '../helpers/html-rewriter-module.ts';
import { checkCase, compareOutcomes, minimise } from '../../scripts/html-diff/check.ts';
import { datInputs, loadCorpus } from '../../scripts/html-diff/corpus.ts';
import { chunkSizes, divergenceArea, generateCase, type Case, type Split } from '../../scripts/html-diff/generate.ts';
import { runProgram, type Program } from '../../scripts/html-diff/program.ts';
import { Random, caseSeed } from '../../scripts/html-diff/random.ts';
import { parse5Engine, rewrite, rewriterEngine, split, type BenchEngine, type WorkloadName } from '../../bench/html/workloads.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const corpus = loadCorpus();
const cases = (seed: number, n: number, profile: 'safe' | 'full' = 'safe'): Case[] =>
  Array.from({ length: n }, (_, i) => generateCase(new Random(caseSeed(seed, i)), profile, corpus));

async function disagreements(candidate: RewriterFactory, list: Case[]) {
  const found = [];
  for (const c of list) {
    const d = await checkCase(c, oracleFactory, candidate);
    if (d) found.push({ c, d });
  }
  return found;
}

test('the generator is deterministic per seed, and seeds differ', () => {
  assert.deepEqual(cases(7, 40), cases(7, 40));
  assert.notDeepEqual(cases(7, 40), cases(8, 40));
  assert.deepEqual(cases(7, 20, 'full'), cases(7, 20, 'full'));
});

test('chunk splits cover the input exactly', () => {
  const splits: Split[] = [{ kind: 'whole' }, { kind: 'fixed', size: 1 }, { kind: 'fixed', size: 7 }, { kind: 'random', seed: 3, max: 16 }];
  for (const s of splits) {
    for (const length of [0, 1, 5, 100]) {
      const sizes = chunkSizes(s, length);
      assert.equal(sizes.reduce((a, b) => a + b, 0), length, JSON.stringify(s));
      assert.ok(sizes.every((n) => n > 0) || length === 0);
    }
  }
});

test('.dat inputs: #data sections without their final newline', () => {
  assert.deepEqual(datInputs('#data\n<p>a\nb\n#errors\n(1,1): x\n#document\n| <p>\n\n#data\n<svg>\n#\n'), ['<p>a\nb', '<svg>']);
  if (corpus.html5lib.length === 0) return;
  assert.equal(corpus.html5lib.length, 1782, 'the README of shared/html-rewriter counts 1 782 tree-construction cases');
});

test('the safe profile stays out of SPEC §13; the divergence filter recognises each area', () => {
  for (const c of cases(11, 300)) assert.equal(divergenceArea(c.doc, c.program), undefined, c.doc);
  const none: Program = { registrations: [], async: false };
  const on = (selector: string): Program => ({ registrations: [{ selector, element: [] }], async: false });
  assert.match(divergenceArea('<!--->', none)!, /comment/);
  assert.match(divergenceArea('<svg><g></p>', none)!, /foreign/);
  assert.match(divergenceArea('<svg><desc></desc><title>', none)!, /integration/);
  assert.match(divergenceArea('<p>', on('p:not(.a.b)'))!, /:not/);
  assert.match(divergenceArea('<p>', on('p:not(.a, .b)'))!, /:not/);
  assert.equal(divergenceArea('<p>', on('p:not([href="a b.c"])')), undefined);
  assert.match(divergenceArea('<p>', on('[HREF]'))!, /uppercase/);
  assert.match(divergenceArea('<My-El><my-el>', on('my-el:nth-of-type(2)'))!, /of-type/);
  const endTags: Program = { registrations: [{ selector: 'p', element: [{ every: 1, offset: 0, action: { op: 'onEndTag', actions: [] } }] }, { selector: 'p', element: [{ every: 1, offset: 0, action: { op: 'onEndTag', actions: [] } }] }], async: false };
  assert.match(divergenceArea('<p>', endTags)!, /onEndTag/);
  // Found with the tool, outside §13.
  assert.match(divergenceArea('<math></x><mi>', none)!, /integration point after an end tag/);
  const removeLang: Program = { registrations: [{ selector: 'li', element: [{ every: 1, offset: 0, action: { op: 'removeAttribute', name: 'lang' } }] }], async: false };
  assert.match(divergenceArea('<li lang="" LANG=x>', removeLang)!, /duplicate/);
  assert.equal(divergenceArea('<li lang="" title=x>', removeLang), undefined);
  const twoEnds: Program = { registrations: [{ end: [] }, { end: [] }], async: false };
  assert.match(divergenceArea('', twoEnds)!, /end handlers/);
  assert.match(divergenceArea('<a>', on('|a'))!, /namespace/);
  assert.equal(divergenceArea('<a>', on('a[href|="en"]')), undefined);
});

test('the oracle agrees with itself, cut into different chunks, in both profiles', async () => {
  assert.deepEqual(await disagreements(oracleFactory, cases(1, 400)), []);
  assert.deepEqual(await disagreements(oracleFactory, cases(2, 150, 'full')), []);
});

test('a wrapper that drops Element.after() is caught and minimised', async () => {
  const { factory } = await loadEngineModule('test/html/fixtures/oracle-drop-after.ts');
  const found = await disagreements(factory, cases(1, 300));
  assert.ok(found.length > 0, 'no disagreement found');
  for (const { c } of found.slice(0, 2)) {
    const small = await minimise(c, oracleFactory, factory);
    assert.ok(small.case.doc.length <= c.doc.length);
    assert.equal(small.disagreement.kind, 'output');
    const ops = small.case.program.registrations.flatMap((r) => r.element ?? []).map((g) => g.action.op);
    assert.ok(ops.includes('after'), `minimised program keeps after(): ${ops.join(',')}`);
  }
});

test('a wrapper that changes one output byte is caught on every case with output', async () => {
  const { factory } = await loadEngineModule('test/html/fixtures/oracle-change-byte.ts');
  let withOutput = 0;
  for (const c of cases(3, 60)) {
    const doc = new TextEncoder().encode(c.doc);
    const reference = await runProgram(oracleFactory, doc, chunkSizes(c.referenceSplit, doc.length), c.program);
    const d = await checkCase(c, oracleFactory, factory);
    if (reference.output.length === 0 || reference.error) continue;
    withOutput++;
    assert.equal(d?.kind, 'output', c.doc);
  }
  assert.ok(withOutput > 30, `${withOutput} cases with output`);
});

test('outcomes compare errors, then output bytes, then handler logs', () => {
  const o = (output: string, log: string[], error?: 'write' | 'end') => ({ output: new TextEncoder().encode(output), log, ...(error ? { error } : {}) });
  assert.equal(compareOutcomes(o('a', ['x']), o('a', ['x'])), undefined);
  assert.equal(compareOutcomes(o('a', []), o('a', [], 'end'))?.kind, 'error');
  assert.equal(compareOutcomes(o('ab', []), o('a', []))?.kind, 'output');
  assert.equal(compareOutcomes(o('a', ['x']), o('a', ['y']))?.kind, 'log');
  // After an error the output so far depends on the chunking: not compared.
  assert.equal(compareOutcomes(o('ab', [], 'write'), o('a', [], 'write')), undefined);
});

test('the html-diff command: exit 0 and "N agreed, 0 disagreed" on a self-check, exit 1 on a broken engine, 2 without an engine', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/html-diff.ts', ...args], { cwd: REPO, encoding: 'utf8' });
  const self = run('--cases', '40', '--engine-module', 'test/html/fixtures/oracle-engine.ts');
  assert.equal(self.status, 0, self.stderr);
  assert.match(self.stdout, /^40 agreed, 0 disagreed$/m);
  const broken = run('--cases', '20', '--show', '1', '--engine-module', 'test/html/fixtures/oracle-change-byte.ts');
  assert.equal(broken.status, 1, broken.stderr);
  assert.match(broken.stdout, /✗ case \d+ .*\n  document: .*\n  program: /);
  assert.match(broken.stdout, /^\d+ agreed, \d+ disagreed/m);
  const missing = run('--cases', '1', '--engine-module', 'test/html/fixtures/no-such-module.ts');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /engine module not found/);
});

// ---- the benchmark ----

const PAGES = new URL('../../../shared/html-rewriter/lol-html/bench-pages/', import.meta.url);
const hasPages = existsSync(PAGES);

async function output(engine: BenchEngine, workload: WorkloadName, bytes: Uint8Array): Promise<Buffer> {
  const parts: Buffer[] = [];
  await rewrite(engine, workload, split(bytes, 16384), (o) => parts.push(Buffer.from(o)));
  return Buffer.concat(parts);
}

test('bench workloads: lol-html-wasm and parse5 give byte-identical outputs on the bench pages (and frontline, when present)', { skip: !hasPages && 'needs ../shared/html-rewriter/lol-html/bench-pages' }, async () => {
  const engines = [rewriterEngine('lol-html-wasm', oracleFactory), parse5Engine];
  if (existsSync(engineModulePath(DEFAULT_ENGINE_MODULE))) engines.push(rewriterEngine('frontline', (await loadEngineModule(DEFAULT_ENGINE_MODULE)).factory));
  for (const page of readdirSync(PAGES).filter((f) => f.endsWith('.html'))) {
    const bytes = new Uint8Array(readFileSync(new URL(page, PAGES)));
    for (const workload of ['none', 'typical'] as const) {
      const [reference, ...others] = await Promise.all(engines.map((e) => output(e, workload, bytes)));
      if (workload === 'none') assert.ok(reference.equals(bytes), `${page}: none changed the page`);
      else assert.ok(!reference.equals(bytes), `${page}: typical changed nothing`);
      others.forEach((o, i) => assert.ok(o.equals(reference), `${page} ${workload}: ${engines[i + 1].name} differs from lol-html-wasm at byte ${firstDifference(o, reference)}`));
    }
  }
});

test('bench workloads: the same effect on small documents, through every engine', async () => {
  const doc = new TextEncoder().encode(
    `<!doctype html><body class=x><a HREF='http://e.com/?a=1&amp;b' id=k>mail me: john@example.com</a><img src=http://e.com/i.png/><IMG alt="" src="/x" />` +
      `<p title="a>b">x</p><a href>empty</a><svg><a href="http://s"/></svg><script>a@b.com</script></body>`,
  );
  const engines = [rewriterEngine('lol-html-wasm', oracleFactory), parse5Engine];
  const [lol, p5] = await Promise.all(engines.map((e) => output(e, 'typical', doc)));
  assert.equal(p5.toString(), lol.toString());
  assert.match(lol.toString(), /<a HREF="https:\/\/e\.com\/\?a=1&amp;b" id=k>/);
  assert.match(lol.toString(), /<script src="\/cdn-cgi\/frontline\.js" defer><\/script><\/body>/);
  assert.doesNotMatch(lol.toString(), /john@example\.com/);
  const attr = await rewrite(engines[0], 'attr', split(doc, 7), () => {});
  const attr5 = await rewrite(parse5Engine, 'attr', split(doc, 7), () => {});
  assert.deepEqual([attr.calls, attr.valueLength], [attr5.calls, attr5.valueLength]);
  assert.equal(attr.calls, 3);
});

function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

test('bench/html/run.ts --quick runs end to end (the oracle standing in for frontline)', { skip: !hasPages && 'needs ../shared/html-rewriter/lol-html/bench-pages' }, () => {
  const r = spawnSync(process.execPath, ['bench/html/run.ts', '--quick', '--pages', 'cloudflare.com.html', '--min-ms', '10', '--handler-elements', '500',
    '--engine-module', 'test/html/fixtures/oracle-engine.ts', '--json', '-'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const heading of ['Throughput, MB/s', 'One element-handler call', 'Output latency', 'Peak memory', 'Targets (frontline)']) assert.ok(r.stdout.includes(heading), heading);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; engine?: string });
  const types = new Set(lines.map((l) => l.type));
  for (const t of ['meta', 'throughput', 'summary', 'handler', 'latency', 'memory', 'targets']) assert.ok(types.has(t), t);
  assert.deepEqual(new Set(lines.filter((l) => l.type === 'summary').map((l) => l.engine)), new Set(['frontline', 'lol-html-wasm', 'parse5']));
});

test('bench/html/run.ts without an engine module measures the peers and reports frontline missing', { skip: !hasPages && 'needs ../shared/html-rewriter/lol-html/bench-pages' }, () => {
  const r = spawnSync(process.execPath, ['bench/html/run.ts', '--quick', '--pages', 'cloudflare.com.html', '--min-ms', '10', '--sections', 'throughput',
    '--engine-module', 'test/html/fixtures/no-such-module.ts'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /frontline: missing \(engine module not found/);
  assert.match(r.stdout, /Targets \(frontline: missing\)/);
});
