// `npm run conformance:crs -- [options]`: runs OWASP CRS's regression suite (go-ftw format)
// against frontline's WAF. It starts an origin like the suite's backend and frontline (one
// worker, CRS loaded in DetectionOnly at paranoia level 4, every transaction audit-logged),
// sends each test's requests byte for byte as go-ftw would, and checks the expectations
// against frontline's WAF audit log. See docs/waf.md, "CRS regression suite".
//
// Prints each failing test, then `must-fire: X of Y passed` and `N passed, M failed`.
// Exit status 0 whatever the results; 2 when the runner itself cannot run (bad option,
// frontline does not start, the audit log shows nothing, frontline dies).
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lastLines, startFrontline, writeFrontlineFiles, FrontlineStartError, type FrontlineProcess } from './crs/frontline.ts';
import { loadSuite } from './crs/load-tests.ts';
import { startOrigin, type Origin } from './crs/origin.ts';
import { loadOverrides, OverridesError, type Override } from './crs/overrides.ts';
import { RunnerError, runTests, type TestResult } from './crs/runner.ts';
import type { FtwTest } from './crs/types.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/main.ts');

const USAGE = `usage: npm run conformance:crs -- [options]

  --crs DIR          CRS checkout: rules/, crs-setup.conf.example, tests/regression/tests/
                     (default ../shared/crs, relative to the repository)
  --rule ID          only the tests of this rule (repeat, or comma-separated)
  --test RULE-TEST   only this test, e.g. 920100-4 (repeat, or comma-separated)
  --overrides FILE   frontline's overrides (default test/crs/overrides.yaml)
  --keep             keep the temporary directory (config, audit log, frontline's log)
  --json OUT         write one JSON line per test: {"id", "passed", "reason", "ids"}
  --timeout MS       per-request timeout (default 5000)
  --echo             the origin answers requests (other than POST /reflect) with an echo of
                     them as text/plain; by default it answers an empty 200, as the suite's
                     backend (albedo) does, which the tests' expectations assume
`;

function fail(message: string): never {
  process.stderr.write(`conformance:crs: ${message}\n`);
  process.exit(2);
}

function listOption(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      crs: { type: 'string' },
      rule: { type: 'string', multiple: true },
      test: { type: 'string', multiple: true },
      overrides: { type: 'string' },
      keep: { type: 'boolean' },
      json: { type: 'string' },
      timeout: { type: 'string' },
      echo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
}
try {
  args = parse();
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`);
}
if (args.values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const crsDir = resolve(args.values.crs ?? join(ROOT, '../shared/crs'));
const testsDir = join(crsDir, 'tests/regression/tests');
for (const needed of [join(crsDir, 'rules'), join(crsDir, 'crs-setup.conf.example'), testsDir]) {
  if (!existsSync(needed)) fail(`${needed} does not exist (is --crs ${crsDir} a CRS checkout?)`);
}
const timeoutMs = args.values.timeout === undefined ? 5000 : Number(args.values.timeout);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) fail(`--timeout must be a positive number of milliseconds`);
const rules = new Set(listOption(args.values.rule));
const testIds = new Set(listOption(args.values.test));
for (const r of rules) if (!/^\d+$/.test(r)) fail(`--rule ${r}: expected a rule id such as 920100`);
for (const t of testIds) if (!/^\d+-\d+$/.test(t)) fail(`--test ${t}: expected RULE-TEST such as 920100-4`);

const overridesFile = resolve(args.values.overrides ?? join(ROOT, 'test/crs/overrides.yaml'));
let overrides: Override[] = [];
if (existsSync(overridesFile) && statSync(overridesFile).isFile()) {
  try {
    overrides = loadOverrides(overridesFile);
  } catch (err) {
    if (err instanceof OverridesError) fail(err.message);
    throw err;
  }
} else if (args.values.overrides !== undefined) {
  fail(`--overrides ${overridesFile} does not exist`);
}

const wantedRules = rules.size === 0 && testIds.size === 0 ? undefined : [...rules, ...[...testIds].map((t) => t.split('-')[0]!)];
const suite = loadSuite(testsDir, wantedRules);
for (const s of suite.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason} (go-ftw skips it too)\n`);
const tests: FtwTest[] = suite.files
  .flatMap((f) => f.tests)
  .filter((t) => (rules.size === 0 && testIds.size === 0) || rules.has(String(t.ruleId)) || testIds.has(t.id));
if (tests.length === 0) fail('no test matches --rule / --test');

const dir = mkdtempSync(join(tmpdir(), 'frontline-crs-'));
let origin: Origin | undefined;
let frontline: FrontlineProcess | undefined;
const cleanup = async (): Promise<void> => {
  await frontline?.stop().catch(() => undefined);
  await origin?.close().catch(() => undefined);
  if (frontline !== undefined) writeFileSync(join(dir, 'frontline.log'), frontline.log());
  if (args.values.keep === true) process.stderr.write(`kept ${dir} (frontline.yaml, frontline-crs-setup.conf, audit.jsonl, frontline.log)\n`);
  else rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(2));
  });
}

let exitCode = 0;
try {
  origin = await startOrigin({ echo: args.values.echo === true });
  const files = writeFrontlineFiles(dir, crsDir, origin.url);
  frontline = await startFrontline(CLI, files.configFile, 120_000);
  process.stderr.write(
    `running ${tests.length} tests from ${suite.files.length} files against frontline (pid ${frontline.pid}, 127.0.0.1:${frontline.port}); ` +
      `${overrides.length} override(s) from ${overridesFile}\n`,
  );
  const started = performance.now();
  const fl = frontline;
  const jsonOut = args.values.json === undefined ? undefined : resolve(args.values.json);
  if (jsonOut !== undefined) writeFileSync(jsonOut, '');
  let done = 0;
  const results: TestResult[] = await runTests(tests, { host: '127.0.0.1', port: frontline.port, auditLog: files.auditLog }, {
    timeoutMs,
    markerTimeoutMs: 10_000,
    overrides,
    targetGone: () => fl.gone(),
    onResult: (r) => {
      done++;
      if (!r.passed) process.stdout.write(`FAIL ${r.id}: ${r.reason}\n`);
      if (jsonOut !== undefined) appendFileSync(jsonOut, JSON.stringify({ id: r.id, passed: r.passed, reason: r.reason, ids: r.stages.map((s) => s.ids) }) + '\n');
      if (done % 500 === 0) process.stderr.write(`... ${done}/${tests.length} tests, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    },
  });
  const errors = frontline.errors();
  if (errors.length > 0) {
    process.stderr.write(`frontline logged ${errors.length} error(s) during the run (its log is kept with --keep), e.g.:\n  ${errors.slice(0, 5).join('\n  ')}\n`);
  }
  const passed = results.filter((r) => r.passed).length;
  const mustFire = results.filter((r) => r.mustFire);
  process.stderr.write(`${results.length} tests in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`must-fire: ${mustFire.filter((r) => r.passed).length} of ${mustFire.length} passed\n`);
  process.stdout.write(`${passed} passed, ${results.length - passed} failed\n`);
} catch (err) {
  if (err instanceof FrontlineStartError || err instanceof RunnerError) {
    process.stderr.write(`conformance:crs: ${err.message}\n`);
    if (err instanceof RunnerError && frontline !== undefined) process.stderr.write(`frontline's log ends with:\n${lastLines(frontline.log(), 10)}\n`);
    exitCode = 2;
  } else {
    process.stderr.write(`conformance:crs: ${(err as Error).stack ?? String(err)}\n`);
    exitCode = 2;
  }
} finally {
  await cleanup();
}
process.exit(exitCode);
