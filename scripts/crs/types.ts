// The go-ftw test format (ftw-tests-schema v2, as go-ftw v2 reads it), after go-ftw's
// post-processing: defaults left as `undefined` where go-ftw keeps a nil pointer, headers
// turned into their ordered list, `stop_magic` folded into `autocompleteHeaders`, and the
// deprecated `log_contains`/`no_log_contains` moved into `log`.

export interface HeaderTuple {
  name: string;
  value: string;
}

export interface StageInput {
  destAddr?: string;
  port?: number;
  protocol?: string;
  /** Request-line parts; undefined means go-ftw's default (`GET`, `/`, `HTTP/1.1`). */
  method?: string;
  uri?: string;
  version?: string;
  /** The headers in the order they are sent (a `headers` map is sorted by name, as go-ftw does). */
  headers: HeaderTuple[];
  /** `data` as written (a Go template), or undefined. */
  data?: string;
  /** `encoded_data`: base64 of the body. */
  encodedData?: string;
  /** `encoded_request`: base64 of the whole request; '' when absent. */
  encodedRequest: string;
  autocompleteHeaders: boolean;
  saveCookie?: boolean;
  followRedirect?: boolean;
  virtualHostMode: boolean;
}

export interface LogExpectations {
  expectIds: number[];
  noExpectIds: number[];
  matchRegex: string;
  noMatchRegex: string;
}

export interface StageOutput {
  /** Acceptable statuses; empty means no expectation (go-ftw's `status: 0`). */
  status: number[];
  responseContains: string;
  log: LogExpectations;
  expectError: boolean;
  retryOnce: boolean;
  isolated: boolean;
}

export interface Stage {
  description: string;
  input: StageInput;
  output: StageOutput;
}

export interface FtwTest {
  ruleId: number;
  testId: number;
  /** `<rule id>-<test id>`, go-ftw's IdString(). */
  id: string;
  description: string;
  tags: string[];
  stages: Stage[];
  /** The YAML file it came from. */
  file: string;
}

export interface FtwFile {
  path: string;
  ruleId: number;
  name: string;
  tests: FtwTest[];
}

export function emptyOutput(): StageOutput {
  return {
    status: [],
    responseContains: '',
    log: { expectIds: [], noExpectIds: [], matchRegex: '', noMatchRegex: '' },
    expectError: false,
    retryOnce: false,
    isolated: false,
  };
}

/** Whether the output expects anything of the WAF's log for this stage. */
export function hasLogExpectations(output: StageOutput): boolean {
  const log = output.log;
  return log.expectIds.length > 0 || log.noExpectIds.length > 0 || log.matchRegex !== '' || log.noMatchRegex !== '' || output.isolated;
}
