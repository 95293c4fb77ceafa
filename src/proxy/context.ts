// The per-request context: created when a request arrives and passed to every later phase, so
// what one phase decided (route, firewall verdict, features to apply) is read by later phases
// without a new lookup. Plugins keep their own typed state in it through ContextKey.
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/types.ts';
import { normalizePath } from './normalize-path.ts';

/** A typed slot in RequestContext for a plugin's own per-request state. */
export class ContextKey<T> {
  readonly description: string;
  constructor(description: string) {
    this.description = description;
  }
  /** Only for the type checker: the type of the value stored under this key. */
  declare readonly valueType: T;
}

export interface Timings {
  /** Milliseconds from request start to the upstream connection being ready (0 when reused). */
  upstreamConnectMs: number;
  /** Milliseconds from sending upstream to the first byte of the response head. */
  upstreamFirstByteMs: number;
  /** Milliseconds from request start to the first byte written to the client. */
  ttfbMs: number;
  /** Milliseconds from request start to the last byte written (or the abort). */
  totalMs: number;
}

/** The start of a request body, read for inspection (the whole body still goes upstream). */
export interface BodyPrefix {
  /** At most the limit asked for. */
  readonly data: Buffer;
  /** The body ended within the limit: `data` is all of it. */
  readonly complete: boolean;
}

export class RequestContext {
  readonly id: string;
  /** performance.now() at request start. */
  readonly start: number;
  readonly workerId: number;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** "http" or "https", as the client connected. */
  readonly scheme: 'http' | 'https';
  /** "1.1", "1.0" or "2.0" ("-" in the log line of a request that could not be parsed). */
  readonly httpVersion: string;
  readonly method: string;
  /** Lower-case host without the port. */
  readonly host: string;
  /** The request target as received (path and query); it goes upstream as it is. */
  readonly url: string;
  /** The request target exactly as received: an absolute-form target (`http://host/p`) whole. */
  readonly target: string;
  /**
   * The path part of url (before "?"), normalised: unreserved characters decoded, dot segments
   * removed, repeated slashes merged (see normalize-path.ts). Routes match on it.
   */
  readonly path: string;
  /** The client's request headers (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** The request headers as received: name, value, name, value, … in their order and case. */
  get rawHeaders(): readonly string[] {
    return (this.#rawHeaders ??= this.#rawHeadersSource?.() ?? []);
  }
  #rawHeaders: readonly string[] | undefined;
  readonly #rawHeadersSource: (() => readonly string[]) | undefined;
  readonly #bodySource: ((limit: number) => Promise<BodyPrefix>) | undefined;
  #body: Promise<BodyPrefix> | undefined;
  /**
   * Reads the request body, up to `limit` bytes, for an access-phase hook to inspect (a WAF). The
   * bytes read are still sent upstream, followed by the rest. Every call gets the first reading.
   */
  readBody(limit: number): Promise<BodyPrefix> {
    return (this.#body ??= this.#bodySource?.(limit) ?? Promise.resolve(NO_BODY));
  }
  route: RouteConfig | undefined;
  /** The headers that will be sent upstream, built before the request phase; any request-phase hook may change them. */
  upstreamHeaders: Record<string, string | string[]>;
  /** The path and query sent upstream: url, after strip_prefix. */
  upstreamUrl: string;
  /** The origin (scheme://host:port) that served the request, once one was chosen. */
  upstreamAddress: string;
  /** Attempts made upstream (retries included). */
  upstreamAttempts: number;
  status: number;
  /** Response body bytes written to the client. */
  bytesSent: number;
  /** Set when the request ended in an error (upstream failure, client abort, ...). */
  error: string | undefined;
  /** Which rule or plugin answered the request, if one did (e.g. "firewall:1001"). */
  answeredBy: string | undefined;
  /** Rules that matched this request, as "<phase>:<rule id>" (log rules included), for the access log. */
  matchedRules: string[] | undefined;
  readonly timings: Timings;
  #state: Map<ContextKey<unknown>, unknown> | undefined;

  constructor(init: {
    id: string;
    start: number;
    workerId: number;
    clientAddress: string;
    clientPort: number;
    scheme: 'http' | 'https';
    httpVersion: string;
    method: string;
    host: string;
    url: string;
    /** Defaults to url. */
    target?: string;
    headers: IncomingHttpHeaders;
    /** Gives the raw header list when first asked for (building it costs a scan of the head). */
    rawHeaders?: () => readonly string[];
    /** Reads the start of the body (see readBody). */
    body?: (limit: number) => Promise<BodyPrefix>;
  }) {
    this.id = init.id;
    this.start = init.start;
    this.workerId = init.workerId;
    this.clientAddress = init.clientAddress;
    this.clientPort = init.clientPort;
    this.scheme = init.scheme;
    this.httpVersion = init.httpVersion;
    this.method = init.method;
    this.host = init.host;
    this.url = init.url;
    this.target = init.target ?? init.url;
    const q = init.url.indexOf('?');
    this.path = normalizePath(q === -1 ? init.url : init.url.slice(0, q));
    this.headers = init.headers;
    this.#rawHeadersSource = init.rawHeaders;
    this.#bodySource = init.body;
    this.#body = undefined;
    this.route = undefined;
    this.upstreamHeaders = {};
    this.upstreamUrl = init.url;
    this.upstreamAddress = '';
    this.upstreamAttempts = 0;
    this.status = 0;
    this.bytesSent = 0;
    this.error = undefined;
    this.answeredBy = undefined;
    this.matchedRules = undefined;
    this.timings = { upstreamConnectMs: -1, upstreamFirstByteMs: -1, ttfbMs: -1, totalMs: -1 };
    this.#state = undefined;
  }

  get<T>(key: ContextKey<T>): T | undefined {
    return this.#state?.get(key) as T | undefined;
  }

  set<T>(key: ContextKey<T>, value: T): void {
    (this.#state ??= new Map()).set(key, value);
  }
}

const NO_BODY: BodyPrefix = { data: Buffer.alloc(0), complete: true };
