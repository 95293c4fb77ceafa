// Runs go-ftw tests against a target (an HTTP listener in front of a WAF that writes the JSON
// audit log of audit-log.ts), the way go-ftw does:
//
//   for each stage:  marker request ─► the stage's request ─► marker request
//
// A marker request is `GET /status/200` with `X-CRS-Test: <unique id>`; its audit-log entry
// carries that id in `marker`. The entries strictly between a stage's two marker entries are
// that stage's log. Requests go one at a time, each on its own connection, and a request is
// only sent once the previous response has arrived, so the audit log's order is the order of
// the requests and nothing else can land between a stage's markers (one client, one worker).
//
// Two things make it faster than go-ftw without changing what a stage sees:
//   - the end marker of one stage is the start marker of the next (go-ftw sends two markers
//     back to back there; nothing can be logged between them);
//   - the log is read behind the requests: a stage is checked as soon as its end marker shows
//     up in the audit log, while later stages are already being sent. Only a `retry_once`
//     stage waits for its own verdict, since a failure there means sending it again.
// Stages are not sent concurrently: with several in flight, their entries would interleave
// between each other's markers and could not be told apart.
import { randomUUID } from 'node:crypto';
import { AuditLogTail, stageLog, type StageLog } from './audit-log.ts';
import { evaluateStage, type LogView } from './check.ts';
import { exchange, type Exchange, type Response } from './client.ts';
import { applyOverrides, type Override } from './overrides.ts';
import { buildMarkerRequest, buildStageRequest, GoHeader, markerHost, RequestBuildError, stageSanityError } from './request.ts';
import { hasLogExpectations, type FtwTest, type Stage, type StageInput } from './types.ts';

export const MARKER_HEADER = 'X-CRS-Test';

export interface Target {
  host: string;
  port: number;
  /** The WAF's JSON-lines audit log. */
  auditLog: string;
}

export interface RunnerOptions {
  /** Per request: connect, send, and read the response head. */
  timeoutMs: number;
  /** How long after its request a marker may take to show up in the audit log. */
  markerTimeoutMs: number;
  overrides?: readonly Override[];
  /** Called with each test's result, in order, as soon as it is known. */
  onResult?: (result: TestResult) => void;
  /** Says why the target is gone (its process exited), else undefined. */
  targetGone?: () => string | undefined;
}

export interface StageReport {
  /** 0-based. */
  index: number;
  passed: boolean;
  problems: string[];
  status?: number;
  error?: string;
  /** Rule ids in the stage's log ([] when the log is not known). */
  ids: number[];
  /** The stage failed, had `retry_once`, and this is the second run. */
  retried: boolean;
}

export interface TestResult {
  id: string;
  ruleId: number;
  testId: number;
  file: string;
  passed: boolean;
  /** Why it failed (every failed stage), or null. */
  reason: string | null;
  /** Some stage expects rule ids to fire (`log.expect_ids`), after overrides. */
  mustFire: boolean;
  /** Reasons of the overrides applied to it. */
  overrides: string[];
  stages: StageReport[];
}

/** The runner cannot go on (the target died, the audit log shows no markers, ...). */
export class RunnerError extends Error {}

interface Sent {
  stage: Stage;
  index: number;
  exchange: Exchange;
  /** Why the stage could not be sent (sanity, request building, its start marker). */
  problem?: string;
  /** The end marker request failed (this only fails stages that look at the log). */
  markerProblem?: string;
  start?: string;
  end?: string;
  sentAt: number;
}

/** How many stages in a row may miss their end marker before the run is abandoned. */
const MAX_MISSING_MARKERS = 10;

export class Runner {
  private readonly tail: AuditLogTail;
  private readonly ours = new Set<string>();
  private boundary?: { id: string; host: string };
  private evalChain: Promise<unknown> = Promise.resolve();
  private missingInARow = 0;
  private fatal?: RunnerError;
  /** The run stopped early: checks still queued stop waiting for the audit log. */
  private abandoned = false;
  private readonly target: Target;
  private readonly options: RunnerOptions;

  constructor(target: Target, options: RunnerOptions) {
    this.target = target;
    this.options = options;
    this.tail = new AuditLogTail(target.auditLog);
  }

  private async send(request: Buffer): Promise<Exchange> {
    const result = await exchange(this.target.host, this.target.port, request, this.options.timeoutMs);
    if (result.error !== undefined) {
      const gone = this.options.targetGone?.();
      if (gone !== undefined) throw new RunnerError(gone);
    }
    return result;
  }

  /** Sends a marker request (id `<label>-<uuid>-<suffix>`, as go-ftw's); its id, or an error message. */
  private async marker(host: string, label: string, suffix: 's' | 'e'): Promise<string | { error: string }> {
    const id = `${label}-${randomUUID()}-${suffix}`;
    this.ours.add(id);
    const result = await this.send(buildMarkerRequest(MARKER_HEADER, id, host));
    if (result.error !== undefined) {
      this.boundary = undefined;
      return { error: `the marker request failed: ${result.error}` };
    }
    this.boundary = { id, host };
    return id;
  }

  /**
   * Sends one marker and waits for it in the audit log: proves that the target answers and
   * that its audit log is the one being read.
   */
  async preflight(waitMs: number): Promise<void> {
    const id = await this.marker('localhost', 'preflight', 'e');
    if (typeof id !== 'string') throw new RunnerError(`the target does not answer: ${id.error}`);
    const at = await this.tail.waitForMarker(id, performance.now() + waitMs);
    if (at === undefined) {
      throw new RunnerError(
        `no entry with "marker": "${id}" appeared in the audit log ${this.target.auditLog} within ${waitMs} ms ` +
          `(${this.tail.malformed} malformed line(s) read): is the WAF on and writing its audit log there?`,
      );
    }
  }

  private async sendStage(test: FtwTest, stage: Stage, index: number, previous: { response?: Response; input: StageInput } | undefined): Promise<Sent> {
    const sentAt = performance.now();
    const fail = (problem: string): Sent => ({ stage, index, exchange: { ms: 0 }, problem, sentAt });
    const sanity = stageSanityError(stage.input, stage.output);
    if (sanity !== undefined) return fail(sanity);
    const input = stage.input;
    let headers = new GoHeader(input.headers);
    let uri: string | undefined;
    if (input.followRedirect === true) {
      const redirect = redirectTarget(previous, headers);
      if (typeof redirect === 'string') return fail(`follow_redirect: ${redirect}`);
      ({ headers, uri } = redirect);
    }
    let request: Buffer;
    try {
      request = buildStageRequest(input, headers, uri);
    } catch (err) {
      if (err instanceof RequestBuildError) return fail(err.message);
      throw err;
    }
    const host = markerHost(input);
    const start = this.boundary?.host === host ? this.boundary.id : await this.marker(host, test.id, 's');
    if (typeof start !== 'string') return fail(start.error);
    const result = await this.send(request);
    const end = await this.marker(host, test.id, 'e');
    if (typeof end !== 'string') return { stage, index, exchange: result, markerProblem: end.error, start, sentAt };
    return { stage, index, exchange: result, start, end, sentAt: performance.now() };
  }

  private async readLog(sent: Sent): Promise<LogView> {
    if (sent.start === undefined || sent.end === undefined) return { unavailable: sent.problem ?? sent.markerProblem ?? 'no markers' };
    const at = await this.tail.waitForMarker(sent.end, sent.sentAt + this.options.markerTimeoutMs, 10, () => this.abandoned);
    if (at === undefined) {
      if (++this.missingInARow >= MAX_MISSING_MARKERS) {
        this.fatal ??= new RunnerError(`${MAX_MISSING_MARKERS} marker requests in a row never showed up in the audit log ${this.target.auditLog}`);
      }
      return { unavailable: `the end marker did not show up in the audit log within ${this.options.markerTimeoutMs} ms` };
    }
    this.missingInARow = 0;
    const entries = this.tail.window(sent.start, sent.end, this.ours);
    this.tail.discardBefore(at);
    if (entries === undefined) return { unavailable: 'the start marker is not in the audit log before the end marker' };
    return stageLog(entries);
  }

  private async judge(sent: Sent): Promise<StageReport> {
    const log = await this.readLog(sent);
    const known: StageLog | undefined = 'unavailable' in log ? undefined : log;
    const base = { index: sent.index, status: sent.exchange.response?.status, error: sent.exchange.error, ids: known?.ids ?? [], retried: false };
    if (sent.problem !== undefined) return { ...base, passed: false, problems: [sent.problem] };
    // A log that could not be read only matters when the stage expects something of it.
    const verdict = evaluateStage(sent.stage.output, sent.exchange, hasLogExpectations(sent.stage.output) ? log : known);
    return { ...base, passed: verdict.passed, problems: verdict.problems };
  }

  /** Queues the check of a sent stage behind the earlier ones. */
  private queue(sent: Sent): Promise<StageReport> {
    const report = this.evalChain.then(() => this.judge(sent));
    this.evalChain = report.catch(() => undefined);
    return report;
  }

  /** Runs the tests in order; resolves with every result once all are checked. */
  async run(tests: readonly FtwTest[]): Promise<TestResult[]> {
    try {
      return await this.runAll(tests);
    } catch (err) {
      this.abandoned = true;
      throw err;
    }
  }

  private async runAll(tests: readonly FtwTest[]): Promise<TestResult[]> {
    const pending: Promise<TestResult>[] = [];
    let reported: Promise<unknown> = Promise.resolve();
    for (const original of tests) {
      if (this.fatal !== undefined) throw this.fatal;
      const { test, reasons } = applyOverrides(original, this.options.overrides ?? []);
      const reports: Promise<StageReport>[] = [];
      let previous: { response?: Response; input: StageInput } | undefined;
      for (const [index, stage] of test.stages.entries()) {
        let sent = await this.sendStage(test, stage, index, previous);
        let report = this.queue(sent);
        if (stage.output.retryOnce && !(await report).passed) {
          sent = await this.sendStage(test, stage, index, previous);
          report = this.queue(sent).then((r) => ({ ...r, retried: true }));
        }
        previous = { response: sent.exchange.response, input: stage.input };
        reports.push(report);
      }
      const result = Promise.all(reports).then((stages) => testResult(test, stages, reasons));
      reported = reported.then(() => result).then((r) => this.options.onResult?.(r));
      reported.catch(() => undefined);
      pending.push(result);
    }
    const results = await Promise.all(pending);
    await reported;
    if (this.fatal !== undefined) throw this.fatal;
    return results;
  }

  async close(): Promise<void> {
    await this.evalChain;
    await this.tail.close();
  }
}

function testResult(test: FtwTest, stages: StageReport[], overrides: string[]): TestResult {
  const failed = stages.filter((s) => !s.passed);
  const many = test.stages.length > 1;
  const reason =
    failed.length === 0 ? null : failed.map((s) => (many ? `stage ${s.index + 1}/${test.stages.length}: ` : '') + s.problems.join('; ')).join(' | ');
  return {
    id: test.id,
    ruleId: test.ruleId,
    testId: test.testId,
    file: test.file,
    passed: stages.length > 0 && failed.length === 0,
    reason: stages.length === 0 ? 'the test has no stages' : reason,
    mustFire: test.stages.some((s) => s.output.log.expectIds.length > 0),
    overrides,
    stages,
  };
}

/** runner/redirect.go: where `follow_redirect` goes, from the previous stage's response. */
function redirectTarget(previous: { response?: Response; input: StageInput } | undefined, headers: GoHeader): { headers: GoHeader; uri: string } | string {
  if (previous === undefined) return 'no previous stage in this test';
  const response = previous.response;
  if (response === undefined) return 'the previous stage got no response';
  if (![300, 301, 302, 303, 307, 308].includes(response.status)) return `previous response status code ${response.status} is not a redirect`;
  const location = response.headers.find(([n]) => n.toLowerCase() === 'location')?.[1] ?? '';
  if (location === '') return 'previous response is a redirect but has no Location header';
  const input = previous.input;
  const protocol = input.protocol ?? 'http';
  const port = input.port ?? 80;
  const defaultPort = (protocol === 'https' && port === 443) || (protocol === 'http' && port === 80);
  let url: URL;
  try {
    url = new URL(location, `${protocol}://${input.destAddr ?? 'localhost'}${defaultPort ? '' : `:${port}`}${(input.uri ?? '/').startsWith('/') ? '' : '/'}${input.uri ?? '/'}`);
  } catch {
    return `cannot parse Location header ${JSON.stringify(location)}`;
  }
  const out = headers.clone();
  out.set('Host', url.host);
  return { headers: out, uri: `${url.pathname}${url.search}` };
}

/** Runs `tests` against `target`: preflight, the tests, and cleanup. */
export async function runTests(tests: readonly FtwTest[], target: Target, options: RunnerOptions & { preflightMs?: number }): Promise<TestResult[]> {
  const runner = new Runner(target, options);
  try {
    await runner.preflight(options.preflightMs ?? 15_000);
    return await runner.run(tests);
  } finally {
    await runner.close().catch(() => undefined);
  }
}
