// Shared helpers for the observability tests: finished requests to count and log.
import type { RouteConfig } from '../../src/config/types.ts';
import { RequestContext } from '../../src/proxy/context.ts';

export function route(host: string | undefined, path: string, upstream: string): RouteConfig {
  return { host, path, upstream, hostHeader: '', stripPrefix: false, plugins: {} };
}

/** A request as it looks when it has finished: route, status and timings set. */
export function finished(r: RouteConfig | undefined, status: number, timings: Partial<RequestContext['timings']>): RequestContext {
  const ctx = new RequestContext({
    id: 'r',
    start: performance.now(),
    workerId: 1,
    clientAddress: '::1',
    clientPort: 1,
    scheme: 'http',
    httpVersion: '1.1',
    method: 'GET',
    host: 'example.com',
    url: '/',
    headers: {},
  });
  ctx.route = r;
  ctx.status = status;
  Object.assign(ctx.timings, timings);
  return ctx;
}
