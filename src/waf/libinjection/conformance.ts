// Checking the detectors against verdict files in the format of
// ../shared/libinjection/reference-verdicts.jsonl: one JSON object per line with `input`
// (UTF-8 text, or base64 when `encoding` is "base64") and optionally the expected `sqli`,
// `fingerprint` and `xss`. Used by scripts/conformance-libinjection.ts and the tests.
import { detectSqli } from './sqli.ts';
import { detectXss } from './xss.ts';

export interface VerdictLine {
  readonly input: string;
  readonly encoding?: string;
  readonly sqli?: boolean;
  readonly fingerprint?: string | null;
  readonly xss?: boolean;
}

export interface ActualVerdict {
  readonly input: string;
  readonly encoding?: string;
  readonly sqli: boolean;
  readonly fingerprint: string | null;
  readonly xss: boolean;
}

export interface VerdictCheck {
  readonly actual: ActualVerdict;
  /** undefined when the line carries no expected verdict. */
  readonly passed: boolean | undefined;
  /** What differs, e.g. `sqli: expected true, got false`. */
  readonly problems: readonly string[];
}

/** Parses one JSONL line; throws with the reason when it is not a verdict line. */
export function parseVerdictLine(text: string): VerdictLine {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || typeof (value as { input?: unknown }).input !== 'string') {
    throw new Error('not an object with a string "input"');
  }
  const line = value as VerdictLine;
  if (line.encoding !== undefined && line.encoding !== 'base64') throw new Error(`unknown encoding ${JSON.stringify(line.encoding)}`);
  if (line.sqli !== undefined && typeof line.sqli !== 'boolean') throw new Error('"sqli" is not a boolean');
  if (line.xss !== undefined && typeof line.xss !== 'boolean') throw new Error('"xss" is not a boolean');
  if (line.fingerprint !== undefined && line.fingerprint !== null && typeof line.fingerprint !== 'string') throw new Error('"fingerprint" is not a string or null');
  return line;
}

/** The bytes the detectors see, as a binary string (one char per byte). */
export function inputBytes(line: VerdictLine): string {
  return Buffer.from(line.input, line.encoding === 'base64' ? 'base64' : 'utf8').toString('latin1');
}

export function checkVerdict(line: VerdictLine): VerdictCheck {
  const bytes = inputBytes(line);
  const sqli = detectSqli(bytes);
  const xss = detectXss(bytes);
  const actual: ActualVerdict = {
    input: line.input,
    ...(line.encoding === undefined ? {} : { encoding: line.encoding }),
    sqli: sqli.sqli,
    fingerprint: sqli.fingerprint,
    xss,
  };
  const problems: string[] = [];
  let answered = false;
  if (line.sqli !== undefined) {
    answered = true;
    if (line.sqli !== actual.sqli) problems.push(`sqli: expected ${line.sqli}, got ${actual.sqli}`);
  }
  if (line.fingerprint !== undefined) {
    answered = true;
    if (line.fingerprint !== actual.fingerprint) problems.push(`fingerprint: expected ${JSON.stringify(line.fingerprint)}, got ${JSON.stringify(actual.fingerprint)}`);
  }
  if (line.xss !== undefined) {
    answered = true;
    if (line.xss !== actual.xss) problems.push(`xss: expected ${line.xss}, got ${actual.xss}`);
  }
  return { actual, passed: answered ? problems.length === 0 : undefined, problems };
}
