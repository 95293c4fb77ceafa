// A worker's listeners and lifecycle: builds the request path for one configuration, opens its
// listeners (plain or TLS with SNI), gives each accepted connection to the protocol it speaks —
// HTTP/1.x to frontline's own connection handler (http1/), HTTP/2 (ALPN h2, or h2c on a listener
// with http2 and no TLS) to node:http2 — counts connections, and stops gracefully (stop
// accepting, finish in-flight requests, close keep-alive connections).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type http2 from 'node:http2';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { Config, ListenerConfig } from '../config/types.ts';
import { createAccessLog } from '../observability/access-log.ts';
import { createLogger } from '../observability/log.ts';
import { WorkerMetrics } from '../observability/metrics.ts';
import { firewallPlugin } from '../features/firewall/plugin.ts';
import { wafPlugin } from '../features/waf/plugin.ts';
import { htmlFeaturePlugins } from '../features/html-rewriting/builtins.ts';
import { ProxyHandler, type CompiledRoute } from './handler.ts';
import { Http1Server } from './http1/connection.ts';
import { acceptHttp2, createHttp2Server } from './http2.ts';
import type { Plugin } from './plugin.ts';
import { PluginSet } from './plugins.ts';
import { Router } from './router.ts';
import type { WorkerRuntime, WorkerStats } from './runtime.ts';
import { Upstreams } from './upstream/index.ts';

/** During a graceful stop, how long a new connection may take to send its first request. */
const FIRST_REQUEST_GRACE_MS = 2000;

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
    const features = [
      firewallPlugin(config.firewall, metrics),
      await wafPlugin(config.waf, log, metrics),
      ...htmlFeaturePlugins(config.html, config.firewall.lists, log),
    ].filter((p): p is Plugin => p !== undefined);
    plugins = await PluginSet.load(config.plugins, config.routes, [...features, ...builtins]);
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
  const http1 = new Http1Server(
    handler,
    {
      maxHeaderSize: config.limits.maxHeaderSize,
      maxRequestsPerConnection: config.limits.maxRequestsPerConnection,
      headerMs: config.timeouts.headerMs,
      requestMs: config.timeouts.requestMs,
      keepaliveMs: config.timeouts.keepaliveMs,
      requestIdHeader: config.requestId.header,
    },
    log,
  );
  const h2 = createHttp2Server((down) => handler.handle(down), config.limits.maxHeaderSize);
  let draining = false;
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // The HTTP/2 counterpart of the keep-alive timeout: GOAWAY after a quiet spell (streams
    // still open may finish).
    if (config.timeouts.keepaliveMs > 0) session.setTimeout(config.timeouts.keepaliveMs, () => session.close());
    if (draining) session.close();
  });

  let connectionsAccepted = 0;
  let connectionsOpen = 0;
  /** Counts a client connection and gives it to the protocol it speaks. */
  const accept = (socket: Socket, http2Only: boolean, encrypted: boolean) => {
    connectionsAccepted++;
    connectionsOpen++;
    metrics?.connectionOpened();
    socket.once('close', () => {
      connectionsOpen--;
      metrics?.connectionClosed();
    });
    if (http2Only || (socket as tls.TLSSocket).alpnProtocol === 'h2') acceptHttp2(h2, socket);
    else http1.accept(socket, encrypted);
  };
  const servers: net.Server[] = [];
  try {
    for (const listener of config.listeners) {
      const server = createListener(listener, config);
      // TLS connections are counted once the handshake is done: the TLS socket is the one HTTP uses.
      const h2c = listener.http2 && !listener.tls;
      if (listener.tls) server.on('secureConnection', (socket: tls.TLSSocket) => accept(socket, false, true));
      else server.on('connection', (socket: Socket) => accept(socket, h2c, false));
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
        connectionsOpen,
        requests: handler.requests,
        requestsActive: handler.requestsActive,
      };
    },
    metrics: () => metrics?.metricsJSON() ?? Promise.resolve([]),
    reopenLogs: () => accessLog?.reopen(),
    shutdown(graceful: boolean): Promise<void> {
      stopping ??= (async () => {
        draining = true;
        http1.draining = true;
        // Stop accepting; connections accepted a moment ago keep their chance to send a request.
        const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
        for (const session of sessions) session.close();
        if (graceful) {
          const deadline = performance.now() + config.timeouts.gracefulStopMs;
          const firstRequestGrace = Math.min(config.timeouts.headerMs, FIRST_REQUEST_GRACE_MS);
          // Busy HTTP/1 connections end after their response (Connection: close); idle ones close
          // now; one that has not sent a request yet gets a moment to send it. HTTP/2 sessions
          // drain through GOAWAY and close themselves.
          while (connectionsOpen > 0 && performance.now() < deadline) {
            http1.closeIdle(performance.now(), firstRequestGrace);
            await new Promise((r) => setTimeout(r, 25));
          }
        }
        for (const conn of http1.connections) conn.socket.destroy();
        for (const session of sessions) session.destroy();
        await closed;
        await Promise.all([upstreams.close(), plugins.close(), accessLog?.close()]);
        metrics?.close();
      })();
      return stopping;
    },
  };
  return runtime;
}

/** A listener's server: plain TCP, or TLS with the certificate chosen by SNI and ALPN offering h2 when http2 is on. */
function createListener(listener: ListenerConfig, config: Config): net.Server {
  // allowHalfOpen: a client that shuts down its sending side after a request still gets the response.
  if (!listener.tls) return net.createServer({ allowHalfOpen: true, noDelay: true });
  const contexts = listener.tls.certificates.map((c) => ({
    names: c.serverNames,
    context: tls.createSecureContext({ cert: readFileSync(c.certFile), key: readFileSync(c.keyFile) }),
    cert: c,
  }));
  const first = contexts[0];
  const SNICallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) =>
    cb(null, selectCertificate(contexts, servername.toLowerCase()) ?? first.context);
  const headerMs = config.timeouts.headerMs;
  return tls.createServer({
    cert: readFileSync(first.cert.certFile),
    key: readFileSync(first.cert.keyFile),
    SNICallback,
    ALPNProtocols: listener.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    allowHalfOpen: true,
    noDelay: true,
    // A handshake is part of getting the request head in.
    handshakeTimeout: headerMs > 0 ? headerMs : 120_000,
  });
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

async function listen(server: net.Server, listener: ListenerConfig, config: Config): Promise<void> {
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
