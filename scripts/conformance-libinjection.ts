// `npm run conformance:libinjection -- FILE [--actual OUT.jsonl]`: runs the SQLi and XSS detectors
// on every line of a JSONL verdict file (the format of ../shared/libinjection/
// reference-verdicts.jsonl), prints every line whose `sqli`, `fingerprint` or `xss` differs from
// what it expects, and a last line `N passed, M failed`. Lines without expected verdicts are run
// but not counted. With --actual, writes one line per input line with the computed verdicts.
import { readFileSync, writeFileSync } from 'node:fs';
import { type VerdictCheck, checkVerdict, parseVerdictLine } from '../src/waf/libinjection/conformance.ts';

const args = process.argv.slice(2);
const actualIndex = args.indexOf('--actual');
const actualPath = actualIndex === -1 ? undefined : args[actualIndex + 1];
const files = args.filter((arg, i) => !arg.startsWith('--') && (actualIndex === -1 || i !== actualIndex + 1));
if (files.length !== 1 || (actualIndex !== -1 && actualPath === undefined)) {
  process.stderr.write('usage: npm run conformance:libinjection -- FILE [--actual OUT.jsonl]\n');
  process.exit(2);
}

const lines = readFileSync(files[0], 'utf8').split('\n');
const actualLines: string[] = [];
let passed = 0;
let failed = 0;
for (let i = 0; i < lines.length; i++) {
  const text = lines[i].trim();
  if (text === '') continue;
  const lineNumber = i + 1;
  let check: VerdictCheck;
  try {
    check = checkVerdict(parseVerdictLine(text));
  } catch (error) {
    // A malformed line is a failure of the file, not of the detectors: say so and go on.
    failed++;
    process.stdout.write(`FAIL line ${lineNumber}: ${(error as Error).message}\n`);
    actualLines.push(JSON.stringify({ line: lineNumber, error: (error as Error).message }));
    continue;
  }
  actualLines.push(JSON.stringify(check.actual));
  if (check.passed === true) passed++;
  else if (check.passed === false) {
    failed++;
    const { input, encoding } = check.actual;
    process.stdout.write(`FAIL line ${lineNumber}: ${JSON.stringify(input)}${encoding === undefined ? '' : ` (${encoding})`}: ${check.problems.join('; ')}\n`);
  }
}
if (actualPath !== undefined) writeFileSync(actualPath, actualLines.length === 0 ? '' : actualLines.join('\n') + '\n');
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
