// The request path of one worker, phase by phase: context → route → request hooks → access
// hooks → upstream request → upstream hooks → origin exchange → response head hooks → body
// transforms → log. One ProxyHandler serves one configuration; a reload builds a new one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import type { Config, RouteConfig } from '../config/types.ts';
import type { AccessLog } from '../observability/access-log.ts';
import type { WorkerMetrics } from '../observability/metrics.ts';
import { RequestContext } from './context.ts';
import { errorReply } from './error-page.ts';
import { classifyUpstreamError, ClientGoneError, Exchange, HookFailure, type ExchangeOwner } from './forward.ts';
import { hasRequestBody, upstreamRequestHeaders, VIA_NAME } from './headers.ts';
import { rawPrefixEnd, segmentCount } from './normalize-path.ts';
import type { Reply, ResponseHead } from './plugin.ts';
import type { PhaseHooks } from './plugins.ts';
import type { ClientResponse } from './respond.ts';
import type { Router } from './router.ts';
import type { UpstreamGroup } from './upstream/group.ts';
import type { Peer } from './upstream/peer.ts';

/** A route with everything the request path needs, resolved at load time. */
export interface CompiledRoute {
  host?: string;
  path: string;
  config: RouteConfig;
  group: UpstreamGroup;
  hooks: PhaseHooks;
}

export type ClientRequest = IncomingMessage | Http2ServerRequest;

/** Request id: a random per-worker prefix and a counter — unique across workers, no per-request entropy cost. */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
const nextId = (): string => `${ID_PREFIX}${(idCounter++).toString(36).padStart(6, '0')}`;
const VALID_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const NO_TRANSFORMS: Transform[] = [];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

interface InFlight {
  req: ClientRequest;
  route: CompiledRoute;
  hasBody: boolean;
  tried: Set<Peer> | undefined;
  /** Counts a body of unknown length against limits.max_body_size. */
  limit: BodyLimit | undefined;
}

/** Marks a client connection that has carried at least one request (see hasServedRequest). */
const SERVED = Symbol('frontline.served');

/** The connection has carried a request: when idle during a stop, it is a keep-alive leftover. */
export const hasServedRequest = (socket: object): boolean => SERVED in socket;

/** Why Node's parser ended the request in progress on a connection (a body too slow or malformed). */
const REJECTED = Symbol('frontline.rejected');
type Rejection = { status: number; reason: string };

/** Records, for the access log, that the request in progress on `socket` was answered with `status` (the first answer counts). */
export const markRejected = (socket: object, status: number, reason: string): void => {
  (socket as Record<symbol, Rejection>)[REJECTED] ??= { status, reason };
};

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> =>
  typeof v === 'object' && v !== null && typeof (v as Promise<T>).then === 'function';

/**
 * The client went away before its request body was complete. `aborted`, not `readableAborted`:
 * an HTTP/2 request whose stream the client reset is ended, not destroyed.
 */
const uploadAborted = (req: ClientRequest): boolean => req.aborted;

/** RFC 9113 §6.5.2: names and values, plus 32 octets per field (pseudo-headers included). */
function headerListSize(headers: Http2ServerRequest['headers']): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') size += name.length + value.length + 32;
    else if (value !== undefined) for (const v of value) size += name.length + v.length + 32;
  }
  return size;
}

export class ProxyHandler implements ExchangeOwner<Exchange<Peer>> {
  readonly #config: Config;
  readonly #workerId: number;
  readonly #router: Router<CompiledRoute>;
  readonly #metrics: WorkerMetrics | undefined;
  readonly #accessLog: AccessLog | undefined;
  readonly #log: Logger;
  readonly #inFlight = new WeakMap<RequestContext, InFlight>();
  readonly #requestIdHeader: string;
  /** Set during a graceful stop: every response closes its connection. */
  draining = false;
  requests = 0;
  requestsActive = 0;

  constructor(deps: {
    config: Config;
    workerId: number;
    router: Router<CompiledRoute>;
    metrics: WorkerMetrics | undefined;
    accessLog: AccessLog | undefined;
    log: Logger;
  }) {
    this.#config = deps.config;
    this.#workerId = deps.workerId;
    this.#router = deps.router;
    this.#metrics = deps.metrics;
    this.#accessLog = deps.accessLog;
    this.#log = deps.log;
    this.#requestIdHeader = deps.config.requestId.header;
  }

  /** The `request` listener of every listener's server. */
  readonly handle = (req: ClientRequest, res: ClientResponse): void => {
    this.requests++;
    this.requestsActive++;
    this.#metrics?.requestStarted();
    const ctx = this.#context(req);
    res.once('close', () => this.#finish(ctx, req, res));
    if (req.httpVersionMajor !== 2) {
      (req.socket as unknown as Record<symbol, boolean>)[SERVED] = true;
      const h1 = res as unknown as ServerResponse & { maxRequestsOnConnectionReached?: boolean };
      // Node answers the last request max_requests_per_connection allows with "Connection: close"
      // but keeps the connection until its keep-alive timeout; not keeping it alive closes it.
      if (this.draining || h1.maxRequestsOnConnectionReached) h1.shouldKeepAlive = false;
    }

    const headers = req.headers;
    if (req.httpVersionMajor === 2) {
      // Node enforces SETTINGS_MAX_HEADER_LIST_SIZE only once the client has acknowledged it.
      const maxHead = this.#config.limits.maxHeaderSize;
      if (maxHead > 0 && headerListSize(headers) > maxHead) {
        this.#fail(ctx, res, 431, `The request headers are larger than this server accepts (${maxHead} bytes).`, undefined);
        return;
      }
    } else if (req.httpVersionMinor === 1 && headers.host === undefined) {
      // Checked here rather than by Node (requireHostHeader), whose 400 has no body and no log line.
      this.#fail(ctx, res, 400, 'The request has no Host header, which HTTP/1.1 requires.', undefined, true);
      return;
    }
    const route = this.#router.match(ctx.host, ctx.path);
    if (route === undefined) {
      this.#fail(ctx, res, 404, `This server has no site for host "${ctx.host}" and path "${ctx.path}".`, undefined);
      return;
    }
    ctx.route = route.config;
    const max = this.#config.limits.maxBodySize;
    if (max > 0 && Number(headers['content-length'] ?? 0) > max) {
      this.#fail(ctx, res, 413, `The request body is larger than this server accepts (${max} bytes).`, route);
      return;
    }
    const hasBody = req.httpVersionMajor === 2 ? !(req as Http2ServerRequest).stream.endAfterHeaders : hasRequestBody(headers);
    this.#inFlight.set(ctx, { req, route, hasBody, tried: undefined, limit: undefined });
    // Before the request phase, so that every phase may change what goes upstream.
    this.#prepareUpstream(ctx, route);
    const hooks = route.hooks;
    if (hooks.request.length === 0 && hooks.access.length === 0 && hooks.upstream.length === 0) {
      this.#dispatch(ctx, res);
    } else {
      this.#runRequestPhases(ctx, res, route).catch((err: Error) => this.#pluginFailed(ctx, res, route, err));
    }
  };

  #context(req: ClientRequest): RequestContext {
    const headers = req.headers;
    const authority = headers.host ?? (headers[':authority'] as string | undefined) ?? '';
    const colon = authority.charCodeAt(0) === 91 /* [ IPv6 */ ? authority.indexOf(']') + 1 : authority.indexOf(':');
    const host = (colon > 0 ? authority.slice(0, colon) : authority).toLowerCase();
    let id: string | undefined;
    if (this.#config.requestId.trustIncoming) {
      const incoming = headers[this.#requestIdHeader];
      if (typeof incoming === 'string' && VALID_ID.test(incoming)) id = incoming;
    }
    const socket = req.socket;
    return new RequestContext({
      id: id ?? nextId(),
      start: performance.now(),
      workerId: this.#workerId,
      clientAddress: socket.remoteAddress ?? '',
      clientPort: socket.remotePort ?? 0,
      scheme: (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      httpVersion: req.httpVersion,
      method: req.method ?? 'GET',
      host,
      url: req.url ?? '/',
      headers,
      rawHeaders: req.rawHeaders,
    });
  }

  async #runRequestPhases(ctx: RequestContext, res: ClientResponse, route: CompiledRoute): Promise<void> {
    const hooks = route.hooks;
    for (const phase of [hooks.request, hooks.access] as const) {
      for (const hook of phase) {
        let reply = hook(ctx);
        if (isPromise(reply)) reply = await reply;
        if (reply) return this.#reply(ctx, res, reply, route);
      }
    }
    for (const hook of hooks.upstream) {
      let reply = hook(ctx);
      if (isPromise(reply)) reply = await reply;
      if (reply) return this.#reply(ctx, res, reply, route);
    }
    if (res.writableEnded || res.destroyed) return;
    this.#dispatch(ctx, res);
  }

  #prepareUpstream(ctx: RequestContext, route: CompiledRoute): void {
    const r = route.config;
    ctx.upstreamHeaders = upstreamRequestHeaders(ctx, r.hostHeader, this.#requestIdHeader);
    if (r.stripPrefix && r.path !== '/') {
      // The prefix matched the normal path; what follows it goes upstream as the client sent it.
      const { url, path } = ctx;
      const asReceived = url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */);
      const end = asReceived ? (r.path.endsWith('/') ? r.path.length - 1 : r.path.length) : rawPrefixEnd(url, segmentCount(r.path));
      const rest = url.slice(end);
      ctx.upstreamUrl = rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
    }
  }

  #dispatch(ctx: RequestContext, res: ClientResponse): void {
    const flight = this.#inFlight.get(ctx);
    if (flight === undefined) return;
    const { route } = flight;
    const peer = route.group.pick(ctx, flight.tried);
    if (peer === undefined) {
      this.#log.error({ upstream: route.config.upstream, request_id: ctx.id }, `upstream "${route.config.upstream}": no server available`);
      ctx.error = 'no upstream server available';
      this.#fail(ctx, res, 502, `No origin server of this site is available (upstream "${route.config.upstream}").`, route);
      return;
    }
    ctx.upstreamAttempts++;
    ctx.upstreamAddress = peer.origin;
    route.group.started(peer);
    let body: ClientRequest | Transform | null = null;
    if (flight.hasBody) {
      const max = this.#config.limits.maxBodySize;
      body = max > 0 && ctx.headers['content-length'] === undefined ? flight.req.pipe((flight.limit = new BodyLimit(max))) : flight.req;
    }
    const exchange = new Exchange<Peer>(this, ctx, res, peer);
    peer.pool.dispatch(
      { path: ctx.upstreamUrl, method: ctx.method as 'GET', headers: ctx.upstreamHeaders, body },
      exchange,
    );
  }

  onHead(exchange: Exchange<Peer>, head: ResponseHead): Transform[] | Promise<Transform[]> {
    const ctx = exchange.ctx;
    const flight = this.#inFlight.get(ctx);
    const headers = head.headers;
    const via = `${ctx.httpVersion === '2.0' ? '2' : ctx.httpVersion} ${VIA_NAME}`;
    const prior = headers.via;
    headers.via = prior ? `${prior}, ${via}` : via;
    headers[this.#requestIdHeader] = ctx.id;
    if (flight === undefined) return NO_TRANSFORMS;
    const hooks = flight.route.hooks;
    if (hooks.responseHeaders.length === 0 && hooks.responseBody.length === 0) return NO_TRANSFORMS;
    for (let i = 0; i < hooks.responseHeaders.length; i++) {
      const done = hooks.responseHeaders[i](ctx, head);
      if (isPromise(done)) return this.#headHooksAsync(ctx, head, hooks, i, done);
    }
    return bodyTransforms(ctx, head, hooks);
  }

  async #headHooksAsync(ctx: RequestContext, head: ResponseHead, hooks: PhaseHooks, from: number, pending: Promise<void>): Promise<Transform[]> {
    await pending;
    for (let i = from + 1; i < hooks.responseHeaders.length; i++) await hooks.responseHeaders[i](ctx, head);
    return bodyTransforms(ctx, head, hooks);
  }

  onFailure(exchange: Exchange<Peer>, err: Error, retryable: boolean): void {
    const ctx = exchange.ctx;
    const res = exchange.res;
    const flight = this.#inFlight.get(ctx);
    if (flight === undefined || this.#uploadFailed(exchange, flight) || this.#hookFailed(exchange, flight, err)) return;
    const { route } = flight;
    const group = route.group;
    const { kind, status } = classifyUpstreamError(err);
    const code = (err as { code?: string }).code;
    group.finished(
      exchange.peer,
      retryable ? 'connect-error' : kind === 'error' ? 'error' : 'timeout',
      performance.now() - exchange.dispatchedAt,
      code ?? err.message,
    );
    this.#metrics?.upstreamError(route.config.upstream, kind);
    const upstream = route.config.upstream;
    const message = err.message || (err as { code?: string }).code || 'unknown error';
    if (
      retryable &&
      !flight.hasBody &&
      IDEMPOTENT.has(ctx.method) &&
      ctx.upstreamAttempts <= (this.#config.upstreams.get(upstream)?.retries ?? 0) &&
      !res.destroyed
    ) {
      (flight.tried ??= new Set()).add(exchange.peer);
      this.#log.warn({ upstream, origin: exchange.peer.origin, request_id: ctx.id, err: message }, `upstream "${upstream}": ${exchange.peer.origin} failed (${message}); retrying on another server`);
      this.#dispatch(ctx, res);
      return;
    }
    ctx.error = `upstream ${exchange.peer.origin}: ${message}`;
    this.#log.error(
      { upstream, origin: exchange.peer.origin, request_id: ctx.id, err: message, attempts: ctx.upstreamAttempts },
      `upstream "${upstream}": ${exchange.peer.origin} failed: ${message}`,
    );
    const detail =
      status === 504
        ? `The origin server of this site did not answer in time (upstream "${upstream}").`
        : `frontline could not get a response from the origin server of this site (upstream "${upstream}": ${kind === 'connect' ? 'connection refused or unreachable' : 'connection failed'}).`;
    this.#fail(ctx, res, status, detail, route);
  }

  onDone(exchange: Exchange<Peer>, ok: boolean, err: Error | undefined): void {
    const ctx = exchange.ctx;
    const flight = this.#inFlight.get(ctx);
    if (flight === undefined) return;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    if (ok || err instanceof ClientGoneError) {
      flight.route.group.finished(exchange.peer, 'ok', latency);
      return;
    }
    if (this.#uploadFailed(exchange, flight) || this.#hookFailed(exchange, flight, err)) return;
    const { kind } = classifyUpstreamError(err ?? new Error('aborted'));
    flight.route.group.finished(exchange.peer, kind === 'error' ? 'error' : 'timeout', latency, (err as { code?: string } | undefined)?.code ?? err?.message);
    this.#metrics?.upstreamError(flight.route.config.upstream, kind);
    ctx.error = `response from ${exchange.peer.origin} cut short: ${err?.message ?? 'aborted'}`;
    this.#log.error(
      { upstream: flight.route.config.upstream, origin: exchange.peer.origin, request_id: ctx.id, err: err?.message },
      `upstream "${flight.route.config.upstream}": response body from ${exchange.peer.origin} cut short (${err?.message}); client connection aborted`,
    );
  }

  /**
   * The exchange failed because of the client's upload, not the origin: a body over
   * limits.max_body_size, or a client that left in the middle of it. The origin did nothing
   * wrong, so for its health the exchange went well. A body over the limit gets 413 if no
   * response has started (after one has, the exchange has aborted the client connection).
   */
  #uploadFailed(exchange: Exchange<Peer>, flight: InFlight): boolean {
    const overLimit = flight.limit?.exceeded === true;
    if (!overLimit && !(flight.hasBody && uploadAborted(flight.req))) return false;
    const { ctx, res, peer } = exchange;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    flight.route.group.finished(peer, 'ok', latency);
    const max = this.#config.limits.maxBodySize;
    ctx.error = overLimit ? `request body larger than limits.max_body_size (${max} bytes)` : 'client aborted the request body';
    this.#log.info(
      { upstream: flight.route.config.upstream, origin: peer.origin, request_id: ctx.id },
      overLimit
        ? `request body passed limits.max_body_size (${max} bytes) on its way to ${peer.origin}; upload stopped`
        : `client aborted its request body on its way to ${peer.origin}`,
    );
    // The rest of the body is never read, so the connection cannot carry another request.
    if (overLimit) this.#fail(ctx, res, 413, `The request body is larger than this server accepts (${max} bytes).`, flight.route, true);
    return true;
  }

  /**
   * A response-phase hook or body transform failed: the origin answered fine. 500 if nothing was
   * sent yet; otherwise the exchange has already aborted the client connection.
   */
  #hookFailed(exchange: Exchange<Peer>, flight: InFlight, err: Error | undefined): boolean {
    if (!(err instanceof HookFailure)) return false;
    const { ctx, res, peer } = exchange;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    flight.route.group.finished(peer, 'ok', latency);
    const cause = err.cause instanceof Error ? err.cause : err;
    if (res.headersSent) {
      ctx.error = err.message;
      this.#log.error({ request_id: ctx.id, err: cause.message, stack: cause.stack }, `${err.message}; client connection aborted`);
    } else this.#pluginFailed(ctx, res, flight.route, cause);
    return true;
  }

  /** Answers with one of frontline's own error pages. `close`: end an HTTP/1 connection after it. */
  #fail(ctx: RequestContext, res: ClientResponse, status: number, detail: string, route: CompiledRoute | undefined, close = false): void {
    ctx.answeredBy = 'frontline';
    const reply = errorReply(status, detail, ctx.id);
    // HTTP/2 forbids the Connection header; a stream ends on its own.
    if (close && ctx.httpVersion !== '2.0') reply.headers = { ...reply.headers, connection: 'close' };
    this.#reply(ctx, res, reply, route);
  }

  /** Answers the request from frontline itself (a plugin's reply or an error page). */
  #reply(ctx: RequestContext, res: ClientResponse, reply: Reply, route: CompiledRoute | undefined): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = reply.body === undefined ? undefined : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const head: ResponseHead = { status: reply.status, headers: { ...reply.headers } };
    head.headers['content-length'] = String(body?.length ?? 0);
    head.headers[this.#requestIdHeader] = ctx.id;
    ctx.answeredBy ??= 'plugin';
    const hooks = route?.hooks.responseHeaders;
    if (hooks && hooks.length > 0) {
      (async () => {
        for (const hook of hooks) await hook(ctx, head);
      })().then(
        () => this.#send(ctx, res, head, body),
        (err: Error) => {
          this.#log.error({ request_id: ctx.id, err: err.message }, `response-headers hook failed: ${err.message}`);
          this.#send(ctx, res, head, body);
        },
      );
    } else this.#send(ctx, res, head, body);
  }

  #send(ctx: RequestContext, res: ClientResponse, head: ResponseHead, body: Uint8Array | undefined): void {
    if (res.headersSent || res.destroyed) return;
    ctx.status = head.status;
    res.writeHead(head.status, head.headers);
    ctx.timings.ttfbMs = performance.now() - ctx.start;
    if (body !== undefined && ctx.method !== 'HEAD') ctx.bytesSent = body.length;
    res.end(body);
  }

  #pluginFailed(ctx: RequestContext, res: ClientResponse, route: CompiledRoute, err: Error): void {
    ctx.error = `plugin failed: ${err.message}`;
    this.#log.error({ request_id: ctx.id, err: err.message, stack: err.stack }, `a plugin hook failed: ${err.message}`);
    this.#fail(ctx, res, 500, 'The server failed while handling this request.', route);
  }

  /**
   * A request that Node's parser rejected before it became a request (400, 408, 431): counted,
   * and logged with what is known of it. Gives the request id for the response.
   */
  rejected(socket: Socket, status: number, error: string, bytesSent: number): string {
    this.#metrics?.clientError(status);
    const id = nextId();
    if (this.#accessLog === undefined) return id;
    const ctx = new RequestContext({
      id,
      start: performance.now(),
      workerId: this.#workerId,
      clientAddress: socket.remoteAddress ?? '',
      clientPort: socket.remotePort ?? 0,
      scheme: (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      httpVersion: '-',
      method: '-',
      host: '',
      url: '-',
      headers: {},
    });
    ctx.status = status;
    ctx.bytesSent = bytesSent;
    ctx.error = error;
    ctx.answeredBy = 'frontline';
    this.#accessLog.write(ctx);
    return id;
  }

  #finish(ctx: RequestContext, req: ClientRequest, res: ClientResponse): void {
    this.requestsActive--;
    ctx.timings.totalMs = performance.now() - ctx.start;
    if (!res.writableFinished) {
      // Node's parser may have ended the request (and the upload with it) after it started.
      const rejection = req.httpVersionMajor === 2 ? undefined : (req.socket as unknown as Record<symbol, Rejection | undefined>)[REJECTED];
      if (rejection !== undefined) {
        ctx.error = `request rejected: ${rejection.reason}`;
        if (ctx.status === 0) {
          ctx.status = rejection.status;
          ctx.answeredBy = 'frontline';
        }
      } else {
        ctx.error ??= 'client closed the connection before the response was complete';
        if (ctx.status === 0) ctx.status = 499;
      }
    }
    const flight = this.#inFlight.get(ctx);
    if (flight !== undefined) {
      for (const hook of flight.route.hooks.log) {
        try {
          // Typed void, but an async hook returns a promise, whose rejection would end the worker.
          const done: unknown = hook(ctx);
          if (isPromise(done)) done.catch((err: unknown) => this.#logHookFailed(ctx, err));
        } catch (err) {
          this.#logHookFailed(ctx, err);
        }
      }
    }
    this.#metrics?.requestFinished(ctx);
    this.#accessLog?.write(ctx);
  }

  #logHookFailed(ctx: RequestContext, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#log.error({ request_id: ctx.id, err: message }, `a log hook failed: ${message}`);
  }
}

function bodyTransforms(ctx: RequestContext, head: ResponseHead, hooks: PhaseHooks): Transform[] {
  let out: Transform[] | undefined;
  for (const hook of hooks.responseBody) {
    const t = hook(ctx, head);
    if (t !== undefined) (out ??= []).push(t);
  }
  return out ?? NO_TRANSFORMS;
}

export class BodyLimitError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyLimitError';
    this.limit = limit;
  }
}

/** Counts a request body of unknown length and fails the upload once it passes the limit. */
class BodyLimit extends Transform {
  readonly #limit: number;
  #seen = 0;
  /** Read by the handler: however the upstream client reports the failure, it was this. */
  exceeded = false;
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) {
      this.exceeded = true;
      done(new BodyLimitError(this.#limit));
    } else done(null, chunk);
  }
}
