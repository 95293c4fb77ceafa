// The bytes of a stage's request, built exactly as go-ftw v2 builds them (ftwhttp/request.go,
// ftwhttp/header.go, test/data.go, runner/run.go getRequestFromTest):
//
//   - `encoded_request` (base64, '\r' and '\n' ignored) is sent as it is; nothing is added.
//   - Otherwise: `METHOD URI VERSION\r\n` (defaults GET, /, HTTP/1.1), the headers in order as
//     `Name: Value\r\n`, an empty line, the body.
//   - The body is `data` run as a Go template (no body at all when the template fails), or
//     `encoded_data` decoded.
//   - With autocomplete_headers (the default; `stop_magic: true` turns it off), and a non-empty
//     body: a `Content-Type: application/x-www-form-urlencoded` header is appended when there is
//     none, and when the Content-Type is exactly that (case-insensitive) and the body has no '%'
//     and no '+', each `key=value` pair is URL-encoded (Go's QueryEscape).
//   - Whatever autocomplete says: when a Content-Type contains `multipart/form-data;`, every
//     '\n' of the body becomes "\r\n" (even one already preceded by '\r').
//   - With autocomplete: `Connection: close` is appended when absent, then `Content-Length`
//     when absent and the body is non-empty or the method matches go-ftw's regular expression
//     `^POST|PUT|PATCH|DELETE$` (so also `XPUT`, `PATCHY`, `UNDELETE`...).
import { canonicalMimeHeaderKey, goBase64Decode, goQueryEscape } from './go-compat.ts';
import { executeGoTemplate, TemplateError, TemplateUnsupported } from './go-template.ts';
import type { HeaderTuple, StageInput } from './types.ts';

/** ftwhttp.Header: an ordered list of fields, looked up by canonical name. */
export class GoHeader {
  readonly entries: HeaderTuple[] = [];
  /** Canonical names ever added (go-ftw never removes a name from this set, even on Set). */
  private readonly names = new Set<string>();

  constructor(entries: readonly HeaderTuple[] = []) {
    for (const e of entries) this.add(e.name, e.value);
  }

  add(name: string, value: string): void {
    this.names.add(canonicalMimeHeaderKey(name));
    this.entries.push({ name, value });
  }

  /** Replaces every field of the same canonical name with this one, at the end. */
  set(name: string, value: string): void {
    const key = canonicalMimeHeaderKey(name);
    const keep = this.entries.filter((e) => canonicalMimeHeaderKey(e.name) !== key);
    this.entries.length = 0;
    this.entries.push(...keep);
    this.add(name, value);
  }

  hasAny(name: string): boolean {
    return this.names.has(canonicalMimeHeaderKey(name));
  }

  getAll(name: string): HeaderTuple[] {
    const key = canonicalMimeHeaderKey(name);
    return this.entries.filter((e) => canonicalMimeHeaderKey(e.name) === key);
  }

  /** A field of this name whose value equals `value` (case-insensitively). */
  hasAnyValue(name: string, value: string): boolean {
    if (!this.hasAny(name)) return false;
    return this.getAll(name).some((e) => equalFold(e.value, value));
  }

  /** A field of this name whose lower-cased value contains `needle` lower-cased. */
  hasAnyValueContaining(name: string, needle: string): boolean {
    if (!this.hasAny(name)) return false;
    return this.getAll(name).some((e) => e.value.toLowerCase().includes(needle.toLowerCase()));
  }

  clone(): GoHeader {
    return new GoHeader(this.entries);
  }

  bytes(): Buffer {
    return Buffer.from(this.entries.map((e) => `${e.name}: ${e.value}\r\n`).join(''), 'utf8');
  }
}

/** Go's strings.EqualFold, close enough: Unicode simple case folding via both cases. */
function equalFold(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

/** The request cannot be built: go-ftw stops with an error (here: the stage fails). */
export class RequestBuildError extends Error {}

/**
 * test/data.go GetData: the body bytes, or null for none. A template that does not parse or
 * run gives null, as in go-ftw; one this runner cannot evaluate throws RequestBuildError.
 */
export function stageData(input: StageInput): Buffer | null {
  if (input.data !== undefined) {
    try {
      return executeGoTemplate(input.data);
    } catch (err) {
      if (err instanceof TemplateError) return null;
      if (err instanceof TemplateUnsupported) throw new RequestBuildError(`data uses ${err.message}, which this runner does not evaluate`);
      throw err;
    }
  }
  if (input.encodedData !== undefined) {
    try {
      return goBase64Decode(input.encodedData);
    } catch {
      return null;
    }
  }
  return null;
}

const METHODS_WITH_BODY = /^POST|PUT|PATCH|DELETE$/;

/** ftwhttp encodeDataParameters. */
function encodeDataParameters(headers: GoHeader, data: Buffer): Buffer {
  if (data.length === 0) return data;
  if (!headers.hasAnyValue('Content-Type', 'application/x-www-form-urlencoded')) return data;
  const text = data.toString('latin1');
  // url.QueryUnescape leaves a string unchanged exactly when it has no '%' and no '+' (a bad
  // escape is an error, which also counts as "changed").
  if (text.includes('%') || text.includes('+')) return data;
  let escaped = '';
  let remaining = data;
  while (remaining.length > 0) {
    const amp = remaining.indexOf(0x26);
    const token = amp === -1 ? remaining : remaining.subarray(0, amp);
    remaining = amp === -1 ? Buffer.alloc(0) : remaining.subarray(amp + 1);
    const eq = token.indexOf(0x3d);
    if (eq === -1) escaped += goQueryEscape(token) + '&';
    else escaped += goQueryEscape(token.subarray(0, eq)) + '=' + goQueryEscape(token.subarray(eq + 1)) + '&';
  }
  return Buffer.from(escaped.slice(0, -1), 'latin1');
}

export interface RequestParts {
  method: string;
  uri: string;
  version: string;
  headers: GoHeader;
  data: Buffer | null;
  autocompleteHeaders: boolean;
}

/** ftwhttp.BuildRequest. */
export function buildRequest(parts: RequestParts): Buffer {
  const headers = parts.headers.clone();
  let data = parts.data ?? Buffer.alloc(0);
  const line = Buffer.from(`${parts.method} ${parts.uri} ${parts.version}\r\n`, 'utf8');
  if (data.length > 0 && parts.autocompleteHeaders) {
    if (!headers.hasAny('Content-Type')) headers.add('Content-Type', 'application/x-www-form-urlencoded');
    data = encodeDataParameters(headers, data);
  }
  if (headers.hasAnyValueContaining('Content-Type', 'multipart/form-data;')) {
    data = Buffer.from(data.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');
  }
  if (parts.autocompleteHeaders) {
    if (!headers.hasAny('Connection')) headers.add('Connection', 'close');
    if (!headers.hasAny('Content-Length') && (data.length > 0 || METHODS_WITH_BODY.test(parts.method))) {
      headers.add('Content-Length', String(data.length));
    }
  }
  return Buffer.concat([line, headers.bytes(), Buffer.from('\r\n'), data]);
}

/** The request of a stage (getRequestFromTest + BuildRequest). `headers` may differ from the input's (follow_redirect). */
export function buildStageRequest(input: StageInput, headers: GoHeader = new GoHeader(input.headers), uri?: string): Buffer {
  if (input.encodedRequest !== '') {
    try {
      return goBase64Decode(input.encodedRequest);
    } catch (err) {
      throw new RequestBuildError(`encoded_request is not valid base64: ${(err as Error).message}`);
    }
  }
  return buildRequest({
    method: input.method ?? 'GET',
    uri: uri ?? input.uri ?? '/',
    version: input.version ?? 'HTTP/1.1',
    headers,
    data: stageData(input),
    autocompleteHeaders: input.autocompleteHeaders,
  });
}

/** go-ftw's marker request: `GET /status/200` with the marker header, autocompleted. */
export function buildMarkerRequest(headerName: string, marker: string, host: string): Buffer {
  const headers = new GoHeader([
    { name: 'Accept', value: '*/*' },
    { name: 'User-Agent', value: 'go-ftw test agent' },
    { name: 'Host', value: host },
    { name: headerName, value: marker },
  ]);
  return buildRequest({ method: 'GET', uri: '/status/200', version: 'HTTP/1.1', headers, data: null, autocompleteHeaders: true });
}

/** runner/run.go buildMarkerRequest: the Host of marker requests for a stage. */
export function markerHost(input: StageInput): string {
  if (!input.virtualHostMode) return 'localhost';
  const hosts = new GoHeader(input.headers).getAll('Host');
  return hosts.length === 1 ? hosts[0]!.value : 'localhost';
}

/** checkTestSanity: problems go-ftw reports before sending anything. */
export function stageSanityError(input: StageInput, output: { isolated: boolean; log: { expectIds: number[] } }): string | undefined {
  if (input.data !== undefined && input.encodedRequest !== '') return "'data' and 'encoded_request' must not be set simultaneously";
  if (output.log.expectIds.length !== 1 && output.isolated) return "'isolated' is only valid if 'expected_ids' has exactly one entry";
  return undefined;
}
