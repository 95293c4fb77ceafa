// A worker's listeners and lifecycle: builds the request path for one configuration, opens its
// listeners (HTTP/1.1, TLS with SNI, HTTP/2 by ALPN or h2c), counts connections, and stops
// gracefully (stop accepting, finish in-flight requests, close keep-alive connections).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http, { STATUS_CODES } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Config, ListenerConfig } from '../config/types.ts';
import { createAccessLog } from '../observability/access-log.ts';
import { createLogger } from '../observability/log.ts';
import { WorkerMetrics } from '../observability/metrics.ts';
import { firewallPlugin } from '../features/firewall/plugin.ts';
import { hasServedRequest, markRejected, ProxyHandler, type CompiledRoute } from './handler.ts';
import type { Plugin } from './plugin.ts';
import { PluginSet } from './plugins.ts';
import { Router } from './router.ts';
import type { WorkerRuntime, WorkerStats } from './runtime.ts';
import { Upstreams } from './upstream/index.ts';

type AnyServer = http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer;

/** During a graceful stop, how long a new connection may take to send its first request. */
const FIRST_REQUEST_GRACE_MS = 2000;

/** An HTTP/1 connection with no response in progress. */
const isIdleHttp1 = (socket: Socket): boolean => !(socket as Socket & { _httpMessage?: unknown })._httpMessage;

/** Starts the request path and every listener of `config`; resolves once all are listening. */
export async function startWorkerRuntime(config: Config, workerId: number, builtins: readonly Plugin[] = []): Promise<WorkerRuntime> {
  const log = createLogger(config.logging.level, { worker: workerId });
  const metrics = config.metrics.enabled ? new WorkerMetrics(workerId) : undefined;
  const accessLog = config.logging.access.enabled ? createAccessLog(config.logging.access, workerId) : undefined;
  const upstreams = new Upstreams(config.upstreams, {
    onHealthChange: (upstream, origin, healthy, reason) =>
      (healthy ? log.info.bind(log) : log.warn.bind(log))(
        { upstream, origin, healthy, reason },
        `upstream "${upstream}": ${origin} ${healthy ? 're-admitted' : 'ejected'} (${reason})`,
      ),
  });
  metrics?.setUpstreamSnapshot(() => upstreams.snapshot());
  let plugins: PluginSet;
  try {
    // Built-in features run first, in the order of the request path, then the given extras.
    const firewall = firewallPlugin(config.firewall, metrics);
    plugins = await PluginSet.load(config.plugins, config.routes, firewall === undefined ? builtins : [firewall, ...builtins]);
  } catch (err) {
    await upstreams.close();
    throw err;
  }
  const routes: CompiledRoute[] = config.routes.map((r) => ({
    host: r.host,
    path: r.path,
    config: r,
    group: upstreams.get(r.upstream),
    hooks: plugins.hooksFor(r),
  }));
  const handler = new ProxyHandler({ config, workerId, router: new Router(routes), metrics, accessLog, log });

  let connectionsAccepted = 0;
  /** Open client connections: when each was accepted (performance.now()), or -1 for HTTP/2 ones. */
  const sockets = new Map<Socket, number>();
  const onConnection = (socket: Socket, http2Only: boolean) => {
    connectionsAccepted++;
    sockets.set(socket, http2Only || (socket as tls.TLSSocket).alpnProtocol === 'h2' ? -1 : performance.now());
    metrics?.connectionOpened();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics?.connectionClosed();
    });
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  const servers: AnyServer[] = [];
  try {
    for (const listener of config.listeners) {
      const server = createServer(listener, config, handler, log);
      // TLS connections are counted once the handshake is done: the TLS socket is the one HTTP uses.
      const h2c = listener.http2 && !listener.tls;
      server.on(listener.tls ? 'secureConnection' : 'connection', (socket: Socket) => onConnection(socket, h2c));
      server.on('session', (session: http2.ServerHttp2Session) => {
        sessions.add(session);
        session.once('close', () => sessions.delete(session));
        // The HTTP/2 counterpart of the keep-alive timeout: GOAWAY after a quiet spell (streams
        // still open may finish).
        if (config.timeouts.keepaliveMs > 0) session.setTimeout(config.timeouts.keepaliveMs, () => session.close());
        if (handler.draining) session.close();
      });
      await listen(server, listener, config);
      servers.push(server);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await Promise.all([upstreams.close(), plugins.close()]);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const runtime: WorkerRuntime = {
    stats(): WorkerStats {
      return {
        workerId,
        pid: process.pid,
        connectionsAccepted,
        connectionsOpen: sockets.size,
        requests: handler.requests,
        requestsActive: handler.requestsActive,
      };
    },
    metrics: () => metrics?.metricsJSON() ?? Promise.resolve([]),
    reopenLogs: () => accessLog?.reopen(),
    shutdown(graceful: boolean): Promise<void> {
      stopping ??= (async () => {
        handler.draining = true;
        // net.Server's close stops accepting without http.Server's closing of idle connections,
        // which would also cut connections accepted a moment ago whose first request is on its way.
        const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => net.Server.prototype.close.call(s, () => resolve()))));
        for (const session of sessions) session.close();
        if (graceful) {
          const deadline = performance.now() + config.timeouts.gracefulStopMs;
          const firstRequestGrace = Math.min(config.timeouts.headerMs, FIRST_REQUEST_GRACE_MS);
          // Busy connections end after their response (Connection: close); idle ones close now;
          // a connection that has not sent a request yet gets a moment to send it.
          while (sockets.size > 0 && performance.now() < deadline) {
            const now = performance.now();
            for (const [socket, acceptedAt] of sockets) {
              // HTTP/2 connections drain through GOAWAY and close themselves.
              if (acceptedAt < 0) continue;
              if (isIdleHttp1(socket) && (hasServedRequest(socket) || now - acceptedAt > firstRequestGrace)) socket.destroy();
            }
            await new Promise((r) => setTimeout(r, 25));
          }
        }
        for (const socket of sockets.keys()) socket.destroy();
        for (const session of sessions) session.destroy();
        for (const s of servers) s.close();
        await closed;
        await Promise.all([upstreams.close(), plugins.close(), accessLog?.close()]);
        metrics?.close();
      })();
      return stopping;
    },
  };
  return runtime;
}

/** HTTP/2 streams one connection may have open at once (nginx's default; Node's is unlimited). */
const MAX_CONCURRENT_STREAMS = 128;

function createServer(listener: ListenerConfig, config: Config, proxy: ProxyHandler, log: ReturnType<typeof createLogger>): AnyServer {
  const t = config.timeouts;
  // 0 is "no limit" for both; Node refuses a head timeout longer than a request timeout.
  const headersTimeout = t.headerMs > 0 && t.requestMs > 0 ? Math.min(t.headerMs, t.requestMs) : t.headerMs;
  const shortest = Math.min(t.headerMs || Infinity, t.requestMs || Infinity);
  const http1Options: http.ServerOptions = {
    maxHeaderSize: config.limits.maxHeaderSize,
    requestTimeout: t.requestMs,
    headersTimeout,
    keepAliveTimeout: t.keepaliveMs,
    // Node checks the two timeouts above on this interval; its default (30 s) would make them late.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortest / 4))),
    // The handler answers a missing Host itself, with a page and a log line.
    requireHostHeader: false,
    insecureHTTPParser: false,
  };
  const http2Settings: http2.Settings = { maxHeaderListSize: config.limits.maxHeaderSize, maxConcurrentStreams: MAX_CONCURRENT_STREAMS };
  const handler = proxy.handle as unknown as http.RequestListener;
  let server: AnyServer;
  if (listener.tls) {
    const contexts = listener.tls.certificates.map((c) => ({
      names: c.serverNames,
      context: tls.createSecureContext({ cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) }),
      cert: c,
    }));
    const first = contexts[0];
    const SNICallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) =>
      cb(null, selectCertificate(contexts, servername.toLowerCase()) ?? first.context);
    const tlsOptions = { cert: readFileSync(first.cert.certFile), key: readFileSync(first.cert.keyFile), SNICallback };
    server = listener.http2
      ? http2.createSecureServer(
          // Node's HTTP/1 fallback for clients without h2 takes its server options from http1Options.
          { ...tlsOptions, allowHTTP1: true, settings: http2Settings, http1Options },
          handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
        )
      : https.createServer({ ...http1Options, ...tlsOptions }, handler);
  } else if (listener.http2) {
    server = http2.createServer(
      { settings: http2Settings },
      handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
  } else {
    server = http.createServer(http1Options, handler);
  }
  // Every listener but h2c speaks HTTP/1.1 (a TLS HTTP/2 listener through Node's HTTP/1 fallback,
  // which reads this limit from the server object as http.Server does).
  if (!listener.http2 || listener.tls) {
    (server as { maxRequestsPerSocket: number }).maxRequestsPerSocket = config.limits.maxRequestsPerConnection;
    server.on('clientError', (err: ParseError, socket: Socket) => rejectBadRequest(err, socket, log, proxy, config.requestId.header));
  }
  return server;
}

/** Exact server name first, then "*.example.com" matching exactly one more label. */
function selectCertificate(contexts: { names: string[]; context: tls.SecureContext }[], servername: string): tls.SecureContext | undefined {
  for (const c of contexts) if (c.names.includes(servername)) return c.context;
  const dot = servername.indexOf('.');
  if (dot > 0) {
    const wildcard = `*${servername.slice(dot)}`;
    for (const c of contexts) if (c.names.includes(wildcard)) return c.context;
  }
  return undefined;
}

/** What Node's HTTP parser reports: llhttp's code and its own words for the fault. */
type ParseError = Error & { code?: string; reason?: string };

/**
 * A request that could not be parsed never reaches a hook or the origin: answer with the status
 * that names the fault (431 head too large, 408 too slow, 413 chunk extensions too large, 400
 * otherwise) and close. Anything else reported here (a reset, a client that closed in the middle
 * of a request, a failed TLS handshake, a connection that sent nothing) has no request to answer.
 */
function rejectBadRequest(err: ParseError, socket: Socket, log: ReturnType<typeof createLogger>, proxy: ProxyHandler, idHeader: string): void {
  const code = err.code ?? '';
  // A connection that never sent a byte (a browser's preconnect, a port scan) had no request to
  // answer or log: close it quietly, as nginx does.
  const silent = code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0;
  if (silent || (!code.startsWith('HPE_') && code !== 'ERR_HTTP_REQUEST_TIMEOUT') || code === 'HPE_INVALID_EOF_STATE') {
    log.debug({ client: socket.remoteAddress, code, err: err.message }, `closed a connection from ${socket.remoteAddress}: ${err.message}`);
    socket.destroy();
    return;
  }
  const status =
    code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
  const reason = describeParseError(code, err.reason ?? err.message);
  // A request in progress (its body was too slow or malformed) logs itself; this marks why it ended.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  const answer = socket.writable && !inProgress?.headersSent;
  const body = answer ? `${status} ${STATUS_CODES[status]}: ${reason}\n` : '';
  let id: string | undefined;
  if (inProgress) markRejected(socket, status, reason);
  else id = proxy.rejected(socket, status, reason, Buffer.byteLength(body));
  log.info(
    { client: socket.remoteAddress, status, code, reason: err.message, request_id: id },
    `rejected a request from ${socket.remoteAddress}: ${status} ${err.message}`,
  );
  // A response already under way on this connection cannot be replaced by an error response.
  if (answer) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        (id === undefined ? '' : `${idHeader}: ${id}\r\n`) +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  } else socket.destroy();
}

function describeParseError(code: string, reason: string): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'the request head is larger than this server accepts';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'the request was not received in time';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'the chunk extensions of the request body are larger than this server accepts';
    // llhttp reports both headers under the code of the one it read second.
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CONTENT_LENGTH':
      if (reason.includes("can't be present with")) return 'the request has both Content-Length and Transfer-Encoding';
      return code === 'HPE_INVALID_CONTENT_LENGTH'
        ? `the Content-Length header is not valid (${reason})`
        : `the Transfer-Encoding header is not valid (${reason})`;
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return 'the request has more than one Content-Length';
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'a header name or value holds characters that are not allowed';
    default:
      return `malformed request (${reason})`;
  }
}

async function listen(server: AnyServer, listener: ListenerConfig, config: Config): Promise<void> {
  const reusePort = config.distribution === 'reuseport' && cluster.isWorker;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${listener.address}:${listener.port}`;
      const reason =
        err.code === 'EADDRINUSE'
          ? 'the address is already in use (another process listens there)'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : err.code === 'EADDRNOTAVAIL'
              ? 'the address does not belong to this machine'
              : err.message;
      reject(new Error(`cannot listen on ${where}: ${reason}`));
    };
    server.once('error', onError);
    server.listen({ host: listener.address, port: listener.port, exclusive: reusePort, reusePort }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
