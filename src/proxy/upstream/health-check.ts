// Active health checks: GET a path on every peer at a fixed interval and report pass or fail.
//
// Probes go through a small Client of their own per peer, not the peer's pool: a pool saturated
// by real traffic would queue the probe behind it, and a busy but healthy origin would be ejected
// for the proxy's own queueing. Each probe opens a fresh connection (`reset`), so it also checks
// that the origin still accepts connections, which a long-lived keep-alive socket would hide.
import { Client } from 'undici';
import type { ActiveHealthConfig } from '../../config/types.ts';
import type { Peer } from './peer.ts';

export type ProbeReport = (peer: Peer, pass: boolean, detail: string) => void;

export class ActiveHealthChecks {
  readonly #config: ActiveHealthConfig;
  readonly #report: ProbeReport;
  readonly #clients: Client[];
  readonly #timers: (NodeJS.Timeout | undefined)[];
  #stopped = false;

  constructor(peers: readonly Peer[], config: ActiveHealthConfig, report: ProbeReport) {
    this.#config = config;
    this.#report = report;
    this.#clients = peers.map(
      (peer) =>
        new Client(peer.origin, {
          pipelining: 1,
          connectTimeout: config.timeoutMs,
          headersTimeout: config.timeoutMs,
          bodyTimeout: config.timeoutMs,
        }),
    );
    this.#timers = peers.map(() => undefined);
    for (const peer of peers) void this.#probe(peer);
  }

  async #probe(peer: Peer): Promise<void> {
    const { path, timeoutMs, intervalMs, expectStatus } = this.#config;
    const startedAt = performance.now();
    let pass = false;
    let detail: string;
    try {
      const res = await this.#clients[peer.index].request({
        method: 'GET',
        path,
        headers: { 'user-agent': 'frontline-health-check' },
        reset: true,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      pass = res.statusCode >= expectStatus[0] && res.statusCode <= expectStatus[1];
      detail = `HTTP ${res.statusCode}`;
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

  /** Stop probing and drop the probe connections (nothing on them is worth waiting for). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.all(this.#clients.map((client) => client.destroy()));
  }
}

function describeProbeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'HeadersTimeoutError' || err.name === 'BodyTimeoutError') {
      return `timeout after ${timeoutMs} ms`;
    }
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' && code !== '' ? code : err.message;
  }
  return String(err);
}
