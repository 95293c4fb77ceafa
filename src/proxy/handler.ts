// The request path of one worker, phase by phase: context → route → request hooks → access
// hooks → upstream request → upstream hooks → origin exchange → response head hooks → body
// transforms → log. One ProxyHandler serves one configuration; a reload builds a new one. It sees
// requests only as Downstreams, so HTTP/1 and HTTP/2 run exactly the same path.
import { randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import type { Config, RouteConfig } from '../config/types.ts';
import type { AccessLog } from '../observability/access-log.ts';
import type { WorkerMetrics } from '../observability/metrics.ts';
import { RequestContext, type BodyPrefix } from './context.ts';
import type { Downstream, DownstreamListener } from './downstream.ts';
import { errorReply } from './error-page.ts';
import { classifyUpstreamError, ClientGoneError, Exchange, HookFailure, type ExchangeOwner } from './forward.ts';
import type { ClientInfo, RequestSink } from './http1/connection.ts';
import { upstreamRequestHeaders, viaEntry } from './headers.ts';
import { rawPrefixEnd, segmentCount } from './normalize-path.ts';
import type { Reply, ResponseHead } from './plugin.ts';
import type { PhaseHooks } from './plugins.ts';
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

/** Request id: a random per-worker prefix and a counter — unique across workers, no per-request entropy cost. */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
const nextId = (): string => `${ID_PREFIX}${(idCounter++).toString(36).padStart(6, '0')}`;
const NO_TRANSFORMS: Transform[] = [];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Characters of a request id taken from the client (with request_id.trust_incoming): [A-Za-z0-9._:@-], 1 to 128. */
function validId(id: string): boolean {
  if (id.length === 0 || id.length > 128) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 58) || (c >= 64 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 45;
    if (!ok) return false;
  }
  return true;
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> =>
  typeof v === 'object' && v !== null && typeof (v as Promise<T>).then === 'function';

/**
 * One request on its way through the phases: the client side, its context, and what the phases
 * decided. It is the downstream's listener, and passes the client's drain and departure on to the
 * exchange with the origin in progress.
 */
class Flight implements DownstreamListener {
  readonly handler: ProxyHandler;
  readonly ctx: RequestContext;
  readonly down: Downstream;
  route: CompiledRoute | undefined = undefined;
  hasBody = false;
  tried: Set<Peer> | undefined = undefined;
  /** Counts a body of unknown length against limits.max_body_size. */
  limit: BodyLimit | undefined = undefined;
  /** The attempt at the origin in progress. */
  exchange: Exchange<Peer> | undefined = undefined;
  /** Body bytes already read for inspection (ctx.readBody): they go upstream before the rest. */
  bodyRead: Buffer | undefined = undefined;

  constructor(handler: ProxyHandler, ctx: RequestContext, down: Downstream) {
    this.handler = handler;
    this.ctx = ctx;
    this.down = down;
  }

  onDrain(): void {
    this.exchange?.drained();
  }

  onEnd(complete: boolean): void {
    if (!complete) this.exchange?.clientGone();
    this.handler.ended(this, complete);
  }
}

/** The flight an exchange belongs to: the handler makes every request's flight its downstream's listener. */
const flightOf = (exchange: Exchange<Peer>): Flight => exchange.down.listener as Flight;

export class ProxyHandler implements ExchangeOwner<Exchange<Peer>>, RequestSink {
  readonly #config: Config;
  readonly #workerId: number;
  readonly #router: Router<CompiledRoute>;
  readonly #metrics: WorkerMetrics | undefined;
  readonly #accessLog: AccessLog | undefined;
  readonly #log: Logger;
  readonly #requestIdHeader: string;
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

  /** Takes a request from a connection (HTTP/1) or a stream (HTTP/2). */
  handle(down: Downstream): void {
    this.requests++;
    this.requestsActive++;
    this.#metrics?.requestStarted();
    const ctx = this.#context(down);
    const flight = new Flight(this, ctx, down);
    down.listener = flight;

    const headers = down.headers;
    if (down.headTooLarge) {
      const maxHead = this.#config.limits.maxHeaderSize;
      this.#fail(flight, 431, `The request headers are larger than this server accepts (${maxHead} bytes).`);
      return;
    }
    if (down.httpVersion === '1.1' && (headers.host === undefined || headers.host === '')) {
      // An http URI with an empty host is invalid and must be rejected (RFC 9110 §4.2.1).
      this.#fail(flight, 400, 'The request has no Host header, or an empty one; HTTP/1.1 requires a host.', true);
      return;
    }
    if (down.method === 'CONNECT') {
      this.#fail(flight, 405, 'frontline does not open CONNECT tunnels.', true);
      return;
    }
    const route = this.#router.match(ctx.host, ctx.path);
    if (route === undefined) {
      this.#fail(flight, 404, `This server has no site for host "${ctx.host}" and path "${ctx.path}".`);
      return;
    }
    flight.route = route;
    ctx.route = route.config;
    const max = this.#config.limits.maxBodySize;
    if (max > 0 && Number(headers['content-length'] ?? 0) > max) {
      this.#fail(flight, 413, `The request body is larger than this server accepts (${max} bytes).`);
      return;
    }
    flight.hasBody = down.hasBody;
    // Before the request phase, so that every phase may change what goes upstream.
    this.#prepareUpstream(ctx, route);
    const hooks = route.hooks;
    if (hooks.request.length === 0 && hooks.access.length === 0 && hooks.upstream.length === 0) {
      this.#dispatch(flight);
    } else {
      this.#runRequestPhases(flight, route).catch((err: Error) => this.#pluginFailed(flight, err));
    }
  }

  #context(down: Downstream): RequestContext {
    const headers = down.headers;
    const authority = headers.host ?? (headers[':authority'] as string | undefined) ?? '';
    const colon = authority.charCodeAt(0) === 91 /* [ IPv6 */ ? authority.indexOf(']') + 1 : authority.indexOf(':');
    const host = (colon > 0 ? authority.slice(0, colon) : authority).toLowerCase();
    let id: string | undefined;
    if (this.#config.requestId.trustIncoming) {
      const incoming = headers[this.#requestIdHeader];
      if (typeof incoming === 'string' && validId(incoming)) id = incoming;
    }
    return new RequestContext({
      id: id ?? nextId(),
      start: performance.now(),
      workerId: this.#workerId,
      clientAddress: down.remoteAddress,
      clientPort: down.remotePort,
      scheme: down.encrypted ? 'https' : 'http',
      httpVersion: down.httpVersion,
      method: down.method,
      host,
      url: down.url,
      target: down.target,
      headers,
      rawHeaders: () => down.rawHeaders(),
      body: (limit) => this.#readBody(down, limit),
    });
  }

  /** Reads the body until it ends or passes `limit`; what was read is kept for upstream (see #dispatch). */
  #readBody(down: Downstream, limit: number): Promise<BodyPrefix> {
    const flight = down.listener as Flight;
    const source = down.body;
    if (!down.hasBody || source === null) return Promise.resolve({ data: Buffer.alloc(0), complete: true });
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (complete: boolean) => {
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onError);
        const data = Buffer.concat(chunks, size);
        flight.bodyRead = data;
        resolve({ data: data.length > limit ? data.subarray(0, limit) : data, complete });
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > limit) {
          source.pause();
          finish(false);
        }
      };
      const onEnd = () => finish(true);
      const onError = (err: Error) => {
        source.off('data', onData);
        source.off('end', onEnd);
        reject(err);
      };
      source.on('data', onData);
      source.once('end', onEnd);
      source.once('error', onError);
    });
  }

  async #runRequestPhases(flight: Flight, route: CompiledRoute): Promise<void> {
    const { ctx } = flight;
    const hooks = route.hooks;
    for (const phase of [hooks.request, hooks.access, hooks.upstream] as const) {
      for (const hook of phase) {
        let reply = hook(ctx);
        if (isPromise(reply)) reply = await reply;
        if (reply) return this.#reply(flight, reply);
      }
    }
    if (flight.down.done) return;
    this.#dispatch(flight);
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

  #dispatch(flight: Flight): void {
    const { ctx, down } = flight;
    const route = flight.route!;
    const peer = route.group.pick(ctx, flight.tried);
    if (peer === undefined) {
      this.#log.error({ upstream: route.config.upstream, request_id: ctx.id }, `upstream "${route.config.upstream}": no server available`);
      ctx.error = 'no upstream server available';
      this.#fail(flight, 502, `No origin server of this site is available (upstream "${route.config.upstream}").`);
      return;
    }
    ctx.upstreamAttempts++;
    ctx.upstreamAddress = peer.origin;
    route.group.started(peer);
    let body: Readable | null = null;
    if (flight.hasBody && down.body !== null) {
      const max = this.#config.limits.maxBodySize;
      const source = flight.bodyRead === undefined ? down.body : Readable.from(replay(flight.bodyRead, down.body), { objectMode: false });
      body = max > 0 && ctx.headers['content-length'] === undefined ? source.pipe((flight.limit = new BodyLimit(max))) : source;
    }
    const exchange = new Exchange<Peer>(this, ctx, down, peer);
    flight.exchange = exchange;
    peer.pool.dispatch({ path: ctx.upstreamUrl, method: ctx.method as 'GET', headers: ctx.upstreamHeaders, body }, exchange);
  }

  onHead(exchange: Exchange<Peer>, head: ResponseHead): Transform[] | Promise<Transform[]> {
    const ctx = exchange.ctx;
    const headers = head.headers;
    const via = viaEntry(ctx.httpVersion);
    const prior = headers.via;
    headers.via = prior ? `${prior}, ${via}` : via;
    headers[this.#requestIdHeader] = ctx.id;
    const hooks = flightOf(exchange).route!.hooks;
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
    const flight = flightOf(exchange);
    if (this.#uploadFailed(exchange, flight) || this.#hookFailed(exchange, flight, err)) return;
    const { ctx, down } = flight;
    const route = flight.route!;
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
    const message = err.message || code || 'unknown error';
    if (
      retryable &&
      !flight.hasBody &&
      IDEMPOTENT.has(ctx.method) &&
      ctx.upstreamAttempts <= (this.#config.upstreams.get(upstream)?.retries ?? 0) &&
      !down.done
    ) {
      (flight.tried ??= new Set()).add(exchange.peer);
      this.#log.warn({ upstream, origin: exchange.peer.origin, request_id: ctx.id, err: message }, `upstream "${upstream}": ${exchange.peer.origin} failed (${message}); retrying on another server`);
      this.#dispatch(flight);
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
    this.#fail(flight, status, detail);
  }

  onDone(exchange: Exchange<Peer>, ok: boolean, err: Error | undefined): void {
    const flight = flightOf(exchange);
    const { ctx } = flight;
    const route = flight.route!;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    if (ok || err instanceof ClientGoneError) {
      route.group.finished(exchange.peer, 'ok', latency);
      return;
    }
    if (this.#uploadFailed(exchange, flight) || this.#hookFailed(exchange, flight, err)) return;
    const { kind } = classifyUpstreamError(err ?? new Error('aborted'));
    route.group.finished(exchange.peer, kind === 'error' ? 'error' : 'timeout', latency, (err as { code?: string } | undefined)?.code ?? err?.message);
    this.#metrics?.upstreamError(route.config.upstream, kind);
    ctx.error = `response from ${exchange.peer.origin} cut short: ${err?.message ?? 'aborted'}`;
    this.#log.error(
      { upstream: route.config.upstream, origin: exchange.peer.origin, request_id: ctx.id, err: err?.message },
      `upstream "${route.config.upstream}": response body from ${exchange.peer.origin} cut short (${err?.message}); client connection aborted`,
    );
  }

  /**
   * The exchange failed because of the client's upload, not the origin: a body over
   * limits.max_body_size, or a client that left in the middle of it. The origin did nothing
   * wrong, so for its health the exchange went well. A body over the limit gets 413 if no
   * response has started (after one has, the exchange has aborted the client connection).
   */
  #uploadFailed(exchange: Exchange<Peer>, flight: Flight): boolean {
    const overLimit = flight.limit?.exceeded === true;
    if (!overLimit && !(flight.hasBody && flight.down.uploadAborted)) return false;
    const { ctx } = flight;
    const { peer } = exchange;
    const route = flight.route!;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    route.group.finished(peer, 'ok', latency);
    const max = this.#config.limits.maxBodySize;
    ctx.error = overLimit ? `request body larger than limits.max_body_size (${max} bytes)` : 'client aborted the request body';
    this.#log.info(
      { upstream: route.config.upstream, origin: peer.origin, request_id: ctx.id },
      overLimit
        ? `request body passed limits.max_body_size (${max} bytes) on its way to ${peer.origin}; upload stopped`
        : `client aborted its request body on its way to ${peer.origin}`,
    );
    // The rest of the body is never read, so the connection cannot carry another request.
    if (overLimit) this.#fail(flight, 413, `The request body is larger than this server accepts (${max} bytes).`, true);
    return true;
  }

  /**
   * A response-phase hook or body transform failed: the origin answered fine. 500 if nothing was
   * sent yet; otherwise the exchange has already aborted the client connection.
   */
  #hookFailed(exchange: Exchange<Peer>, flight: Flight, err: Error | undefined): boolean {
    if (!(err instanceof HookFailure)) return false;
    const { ctx, down } = flight;
    const latency = ctx.timings.upstreamFirstByteMs >= 0 ? ctx.timings.upstreamFirstByteMs : performance.now() - exchange.dispatchedAt;
    flight.route!.group.finished(exchange.peer, 'ok', latency);
    const cause = err.cause instanceof Error ? err.cause : err;
    if (down.headersSent) {
      ctx.error = err.message;
      this.#log.error({ request_id: ctx.id, err: cause.message, stack: cause.stack }, `${err.message}; client connection aborted`);
    } else this.#pluginFailed(flight, cause);
    return true;
  }

  /** Answers with one of frontline's own error pages. `close`: end an HTTP/1 connection after it. */
  #fail(flight: Flight, status: number, detail: string, close = false): void {
    const { ctx } = flight;
    ctx.answeredBy = 'frontline';
    const reply = errorReply(status, detail, ctx.id);
    // HTTP/2 forbids the Connection header; a stream ends on its own.
    if (close && ctx.httpVersion !== '2.0') reply.headers = { ...reply.headers, connection: 'close' };
    this.#reply(flight, reply);
  }

  /** Answers the request from frontline itself (a plugin's reply or an error page). */
  #reply(flight: Flight, reply: Reply): void {
    const { ctx, down } = flight;
    if (down.headersSent || down.done) {
      down.abort();
      return;
    }
    const body = reply.body === undefined ? undefined : typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const head: ResponseHead = { status: reply.status, headers: { ...reply.headers } };
    head.headers['content-length'] = String(body?.length ?? 0);
    head.headers[this.#requestIdHeader] = ctx.id;
    ctx.answeredBy ??= 'plugin';
    const hooks = flight.route?.hooks.responseHeaders;
    if (hooks && hooks.length > 0) {
      (async () => {
        for (const hook of hooks) await hook(ctx, head);
      })().then(
        () => this.#send(flight, head, body),
        (err: Error) => {
          this.#log.error({ request_id: ctx.id, err: err.message }, `response-headers hook failed: ${err.message}`);
          this.#send(flight, head, body);
        },
      );
    } else this.#send(flight, head, body);
  }

  #send(flight: Flight, head: ResponseHead, body: Uint8Array | undefined): void {
    const { ctx, down } = flight;
    if (down.headersSent || down.done) return;
    ctx.status = head.status;
    ctx.timings.ttfbMs = performance.now() - ctx.start;
    if (body !== undefined && ctx.method !== 'HEAD') ctx.bytesSent = body.length;
    try {
      down.respond(head.status, head.headers, body);
    } catch (err) {
      // A reply whose status or headers cannot be sent (a plugin's mistake).
      const message = (err as Error).message;
      ctx.error = `reply could not be sent: ${message}`;
      this.#log.error({ request_id: ctx.id, err: message }, `a reply could not be sent: ${message}`);
      down.abort();
    }
  }

  #pluginFailed(flight: Flight, err: Error): void {
    flight.ctx.error = `plugin failed: ${err.message}`;
    this.#log.error({ request_id: flight.ctx.id, err: err.message, stack: err.stack }, `a plugin hook failed: ${err.message}`);
    this.#fail(flight, 500, 'The server failed while handling this request.');
  }

  /**
   * A request that the HTTP/1 parser rejected before it became a request (400, 408, 431, ...):
   * counted, and logged with what is known of it. Gives the request id for the response.
   */
  rejected(client: ClientInfo, status: number, error: string, bytesSent: number): string {
    this.#metrics?.clientError(status);
    const id = nextId();
    if (this.#accessLog === undefined) return id;
    const ctx = new RequestContext({
      id,
      start: performance.now(),
      workerId: this.#workerId,
      clientAddress: client.remoteAddress,
      clientPort: client.remotePort,
      scheme: client.encrypted ? 'https' : 'http',
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

  /** The request is over (Flight.onEnd): log and count it. */
  ended(flight: Flight, complete: boolean): void {
    const { ctx, down } = flight;
    this.requestsActive--;
    ctx.timings.totalMs = performance.now() - ctx.start;
    if (!complete) {
      // The connection may have rejected the request (and the upload with it) after it started.
      const rejection = down.rejection;
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
    const route = flight.route;
    if (route !== undefined) {
      for (const hook of route.hooks.log) {
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

/** The body bytes read for inspection, then the rest of the body as it arrives. */
async function* replay(read: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  if (read.length > 0) yield read;
  if (rest.readableEnded) return;
  for await (const chunk of rest) yield chunk as Buffer;
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
