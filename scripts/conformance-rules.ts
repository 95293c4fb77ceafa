// `npm run conformance:rules -- FILE [--actual OUT.jsonl]`: runs a rules-language vector file
// (SPEC.md section 2), prints every failing case and a last line `N passed, M failed`. With
// --actual, writes what the engine did for every case, one JSON object per line.
import { readFileSync, writeFileSync } from 'node:fs';
import { runVectors, type VectorFile } from '../src/rules/conformance.ts';

const args = process.argv.slice(2);
const actualIndex = args.indexOf('--actual');
const actualPath = actualIndex === -1 ? undefined : args[actualIndex + 1];
const file = args.find((arg, i) => !arg.startsWith('--') && (actualIndex === -1 || i !== actualIndex + 1));
if (file === undefined || (actualIndex !== -1 && actualPath === undefined)) {
  process.stderr.write('usage: npm run conformance:rules -- FILE [--actual OUT.jsonl]\n');
  process.exit(2);
}

const vectors = JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
const reports = runVectors(vectors);
let passed = 0;
let failed = 0;
for (const report of reports) {
  if (report.passed === true) passed++;
  else if (report.passed === false) {
    failed++;
    const vector = vectors.cases.find((c) => c.id === report.actual.id);
    process.stdout.write(`FAIL ${report.actual.id}: ${JSON.stringify(vector?.expression)}: ${report.problem}\n`);
  }
}
if (actualPath !== undefined) {
  writeFileSync(actualPath, reports.map((report) => JSON.stringify(report.actual)).join('\n') + '\n');
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
