// The shared conformance vectors (../shared/rules-language/vectors.json), through the same
// runner as `npm run conformance:rules`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { runVectors, type VectorFile } from '../../src/rules/conformance.ts';

const VECTORS = new URL('../../../shared/rules-language/vectors.json', import.meta.url);
const absent = existsSync(VECTORS) ? false : 'skipped: ../shared/rules-language/vectors.json is not present';

test('every shared conformance vector passes', { skip: absent }, () => {
  const file = JSON.parse(readFileSync(VECTORS, 'utf8')) as VectorFile;
  const reports = runVectors(file);
  const failures = reports.filter((report) => report.passed === false).map((report) => `${report.actual.id}: ${report.problem}`);
  assert.deepEqual(failures, []);
  assert.equal(reports.filter((report) => report.passed === true).length, file.cases.length);
});

test('the conformance command prints failures, a summary line, and writes --actual for cases without answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-vectors-'));
  const file = join(dir, 'cases.json');
  writeFileSync(
    file,
    JSON.stringify({
      format: 'frontline-rules-vectors/1',
      schemes: { s: { nil_not_equal: false, lists: [], fields: { 'http.host': 'Bytes', port: 'Int' } } },
      cases: [
        { id: 'ok', kind: 'eval', scheme: 's', expression: 'http.host contains "ex"', values: { 'http.host': 'example' }, expected: true },
        { id: 'wrong', kind: 'eval', scheme: 's', expression: 'port > 80', values: { port: 80 }, expected: true },
        { id: 'unanswered', kind: 'eval', scheme: 's', expression: 'port in {1..9}', values: { port: 5 } },
        { id: 'err', kind: 'parse_error', scheme: 's', expression: 'port == "x"' },
        { id: 'same', kind: 'ast_equal', scheme: 's', expression: 'port eq 1', expression2: 'port == 1' },
      ],
    }),
  );
  const out = join(dir, 'actual.jsonl');
  const run = promisify(execFile);
  const result = await run(process.execPath, ['scripts/conformance-rules.ts', file, '--actual', out]).catch((error: { stdout: string; code: number }) => error);
  const stdout = (result as { stdout: string }).stdout;
  assert.match(stdout, /FAIL wrong: /);
  assert.match(stdout, /\n1 passed, 1 failed\n$/);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines.map((line) => line.id), ['ok', 'wrong', 'unanswered', 'err', 'same']);
  assert.equal(lines[2].result, true);
  assert.deepEqual(lines[2].ast, { lhs: 'port', op: 'OneOf', rhs: [{ start: 1, end: 9 }] });
  assert.equal(lines[3].parsed, false);
  assert.deepEqual(lines[3].error, { category: 'expected_name', span: { start: 8, len: 3 }, line: 1, column: 9, detail: { what: 'digit' }, message: 'expected digit' });
  assert.equal(lines[4].equal, true);
});
