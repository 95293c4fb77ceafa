// A stage's verdict, as go-ftw's checkResult (runner/run.go, runner/check_*.go) decides it:
//   1. `expect_error: true`: passes exactly when the request ended in an error; nothing else
//      is checked. Without it, an error fails the stage.
//   2. `status`: the response status is the expected one (or one of a list).
//   3. `response_contains`: a Go regular expression found in the raw response.
//   4. The log: `match_regex` found in some line and every `expect_ids` id present; then
//      `isolated` (exactly one rule id in all); `no_match_regex` in no line and none of
//      `no_expect_ids`.
// go-ftw stops at the first failed check; the verdict is the same here, but every failed check
// is reported.
import type { StageLog } from './audit-log.ts';
import type { Exchange } from './client.ts';
import { goRegexp, GoRegexpError } from './go-regexp.ts';
import { hasLogExpectations, type StageOutput } from './types.ts';

export interface StageVerdict {
  passed: boolean;
  /** What was expected and what happened, for each failed check. */
  problems: string[];
}

/** The stage's log, or why it is not known (a marker missing from the audit log, ...). */
export type LogView = StageLog | { unavailable: string };

const list = (ids: number[]) => (ids.length === 0 ? 'none' : ids.join(', '));

function regexProblem(pattern: string, what: string): RegExp | string {
  try {
    return goRegexp(pattern);
  } catch (err) {
    if (err instanceof GoRegexpError) return `${what} ${JSON.stringify(pattern)} is not a usable regular expression: ${err.message}`;
    throw err;
  }
}

export function evaluateStage(output: StageOutput, result: Exchange, log: LogView | undefined): StageVerdict {
  const problems: string[] = [];
  if (output.expectError) {
    if (result.error === undefined) problems.push(`expected an error (no response), got status ${result.response?.status ?? '?'}`);
    return { passed: problems.length === 0, problems };
  }
  if (result.error !== undefined || result.response === undefined) {
    return { passed: false, problems: [`request failed: ${result.error ?? 'no response'}`] };
  }
  const response = result.response;
  if (output.status.length > 0 && !output.status.includes(response.status)) {
    problems.push(`expected status ${output.status.join(' or ')}, got ${response.status}`);
  }
  if (output.responseContains !== '') {
    const re = regexProblem(output.responseContains, 'response_contains');
    if (typeof re === 'string') problems.push(re);
    else if (!re.test(response.raw.toString('utf8'))) problems.push(`expected the response to match ${JSON.stringify(output.responseContains)}; it does not`);
  }
  if (!hasLogExpectations(output)) return { passed: problems.length === 0, problems };
  if (log === undefined || 'unavailable' in log) {
    problems.push(`the WAF log for this stage is not known: ${log?.unavailable ?? 'not read'}`);
    return { passed: false, problems };
  }
  const expect = output.log;
  const ids = new Set(log.ids);
  const matches = (pattern: string, what: string): boolean | string => {
    const re = regexProblem(pattern, what);
    return typeof re === 'string' ? re : log.lines.some((line) => re.test(line));
  };
  if (expect.matchRegex !== '') {
    const m = matches(expect.matchRegex, 'match_regex');
    if (typeof m === 'string') problems.push(m);
    else if (!m) problems.push(`expected a log line matching ${JSON.stringify(expect.matchRegex)}; none of ${log.lines.length} does`);
  }
  if (expect.expectIds.length > 0) {
    const missing = expect.expectIds.filter((id) => !ids.has(id));
    if (missing.length > 0) problems.push(`expected rule ids [${expect.expectIds.join(', ')}] in the log, missing ${missing.join(', ')} (log had: ${list(log.ids)})`);
  }
  if (output.isolated && log.ids.length !== 1) {
    problems.push(`expected exactly one rule (isolated), the log had: ${list(log.ids)}`);
  }
  if (expect.noMatchRegex !== '') {
    const m = matches(expect.noMatchRegex, 'no_match_regex');
    if (typeof m === 'string') problems.push(m);
    else if (m) {
      const re = goRegexp(expect.noMatchRegex);
      const line = log.lines.find((l) => re.test(l)) ?? '';
      problems.push(`expected no log line matching ${JSON.stringify(expect.noMatchRegex)}; found ${JSON.stringify(line.length > 300 ? line.slice(0, 300) + '...' : line)}`);
    }
  }
  if (expect.noExpectIds.length > 0) {
    const present = expect.noExpectIds.filter((id) => ids.has(id));
    if (present.length > 0) problems.push(`expected rule ids [${expect.noExpectIds.join(', ')}] not to be in the log, found ${present.join(', ')}`);
  }
  return { passed: problems.length === 0, problems };
}
