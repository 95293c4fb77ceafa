// Shared helpers for the upstream tests: configs, a hand-driven clock, a seeded random source.
import type { BalancePolicy, UpstreamConfig } from '../../src/config/types.ts';
import type { PickRequest } from '../../src/proxy/upstream/balance.ts';
import type { Http1Pool, OriginRequest, RequestController, ResponseHandler } from '../../src/proxy/upstream/http1-pool.ts';

export function upstreamConfig(
  servers: (string | [string, number])[],
  overrides: Partial<Omit<UpstreamConfig, 'servers'>> & { balance?: BalancePolicy } = {},
): UpstreamConfig {
  return {
    name: 'app',
    servers: servers.map((s) => (typeof s === 'string' ? { url: s, weight: 1 } : { url: s[0], weight: s[1] })),
    balance: 'round-robin',
    hashKey: 'client_ip',
    keepalive: { connections: 4, idleTimeoutMs: 5000 },
    timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 },
    retries: 1,
    health: { passive: { maxFails: 3, ejectForMs: 1000, maxEjectForMs: 8000 } },
    ...overrides,
  };
}

/** Origins that are never dialled: balancer tests only look at the peers. */
export function origins(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `http://10.0.0.${i + 1}:8080`);
}

export function request(overrides: Partial<PickRequest> = {}): PickRequest {
  return { clientAddress: '192.0.2.1', url: '/', path: '/', host: 'example.com', headers: {}, ...overrides };
}

export class FakeClock {
  t = 1000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export { seededRandom } from '../helpers/seeded-random.ts';

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Result {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  error?: Error;
  events: string[];
}

/** Runs one request through the pool and collects everything the handler saw. */
export function send(pool: Http1Pool, req: Partial<OriginRequest> = {}, onData?: (c: RequestController, chunk: Buffer) => void): Promise<Result> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const result: Result = { status: 0, headers: {}, body: Buffer.alloc(0), events: [] };
    const handler: ResponseHandler = {
      onRequestStart: () => result.events.push('start'),
      onResponseStart: (_c, status, headers) => {
        result.events.push('head');
        result.status = status;
        result.headers = headers;
      },
      onResponseData: (c, chunk) => {
        chunks.push(Buffer.from(chunk));
        onData?.(c, chunk);
      },
      onResponseEnd: () => {
        result.events.push('end');
        result.body = Buffer.concat(chunks);
        resolve(result);
      },
      onResponseError: (_c, err) => {
        result.events.push('error');
        result.error = err;
        result.body = Buffer.concat(chunks);
        resolve(result);
      },
    };
    pool.dispatch({ method: 'GET', path: '/', headers: { host: 'origin.test' }, body: null, ...req }, handler);
  });
}
