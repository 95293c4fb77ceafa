// Active health checks: GET a path on every peer at a fixed interval and report pass or fail.
//
// Probes do not go through the peer's pool: a pool saturated by real traffic would queue the
// probe behind it, and a busy but healthy origin would be ejected for the proxy's own queueing.
// Each probe opens a fresh connection, so it also checks that the origin still accepts
// connections, which a long-lived keep-alive socket would hide. Probes are rare: node:http will do.
import http from 'node:http';
import https from 'node:https';
import type { ActiveHealthConfig } from '../../config/types.ts';
import type { Peer } from './peer.ts';

export type ProbeReport = (peer: Peer, pass: boolean, detail: string) => void;

export class ActiveHealthChecks {
  readonly #config: ActiveHealthConfig;
  readonly #report: ProbeReport;
  readonly #timers: (NodeJS.Timeout | undefined)[];
  #stopped = false;

  constructor(peers: readonly Peer[], config: ActiveHealthConfig, report: ProbeReport) {
    this.#config = config;
    this.#report = report;
    this.#timers = peers.map(() => undefined);
    for (const peer of peers) void this.#probe(peer);
  }

  async #probe(peer: Peer): Promise<void> {
    const { path, timeoutMs, intervalMs, expectStatus } = this.#config;
    const startedAt = performance.now();
    let pass = false;
    let detail: string;
    try {
      const status = await probe(new URL(path, peer.origin), timeoutMs);
      pass = status >= expectStatus[0] && status <= expectStatus[1];
      detail = `HTTP ${status}`;
    } catch (err) {
      detail = describeProbeError(err, timeoutMs);
    }
    if (this.#stopped) return;
    this.#report(peer, pass, detail);
    if (this.#stopped) return;
    // Keep the cadence from probe start; a probe slower than the interval is followed at once,
    // never overlapped.
    const wait = Math.max(0, intervalMs - (performance.now() - startedAt));
    const timer = setTimeout(() => void this.#probe(peer), wait);
    timer.unref();
    this.#timers[peer.index] = timer;
  }

  /** Stop probing; a probe in flight ends on its own (its result is dropped). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
  }
}

/** One GET on a fresh connection; resolves with the status once the body has been read. */
function probe(url: URL, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { agent: false, headers: { 'user-agent': 'frontline-health-check', connection: 'close' } }, (res) => {
      res.resume();
      res.once('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    // The whole probe, connection to last byte, must fit in the timeout.
    const timer = setTimeout(() => req.destroy(new ProbeTimeout()), timeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

class ProbeTimeout extends Error {
  constructor() {
    super('probe timed out');
    this.name = 'TimeoutError';
  }
}

function describeProbeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err instanceof ProbeTimeout) {
      return `timeout after ${timeoutMs} ms`;
    }
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' && code !== '' ? code : err.message;
  }
  return String(err);
}
