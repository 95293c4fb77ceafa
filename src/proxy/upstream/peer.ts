// One origin server of an upstream: its connection pool, load and latency figures, and health
// state. The state is plain fields because balancers read it on every pick; only UpstreamGroup
// changes it.
import { Http1Pool, type PoolStats } from './http1-pool.ts';
import type { ServerConfig, UpstreamConfig } from '../../config/types.ts';

/** Peak-EWMA decay time: a latency observation loses 1/e of its weight after this long. */
export const EWMA_DECAY_MS = 10_000;
/**
 * Estimate for a peer that has not answered yet: optimistic enough that new peers get tried,
 * not zero so one sample from a slow peer still ranks it below an unmeasured one.
 */
export const INITIAL_EWMA_MS = 30;

export type { PoolStats };

export class Peer {
  /** Name of the upstream this peer belongs to (for logs). */
  readonly upstream: string;
  /** Scheme, host and port, e.g. "http://127.0.0.1:3000". */
  readonly origin: string;
  readonly weight: number;
  /** Position in the group's server list; balancers index per-peer arrays with it. */
  readonly index: number;
  readonly pool: Http1Pool;

  /** Requests started and not yet finished. */
  inflight = 0;

  /** Consecutive failed requests (passive health). */
  fails = 0;
  /** Clock time the passive ejection ends; 0 when not ejected. */
  ejectedUntil = 0;
  /** Length of the next ejection: doubles on each re-ejection, back to the base after a success. */
  ejectMs: number;
  /** Re-admitted after an ejection: the next result decides whether it stays. */
  onTrial = false;
  /** The trial request is in flight: no other request goes here until it ends (half-open). */
  trialBusy = false;
  /**
   * Requests that were in flight when the peer was ejected and have not ended yet. Results that
   * arrive during the ejection describe the peer before it, so this many neither extend it nor
   * end it (a burst of errors from one outage must not double the ejection once per request).
   */
  staleInflight = 0;

  /** Ejected by active health checks. */
  activeDown = false;
  /** Consecutive active check results in the direction that would change `activeDown`. */
  activeStreak = 0;

  #ewma = INITIAL_EWMA_MS;
  #ewmaStamp: number;

  constructor(upstream: UpstreamConfig, server: ServerConfig, index: number, now: number) {
    this.upstream = upstream.name;
    this.origin = server.url;
    this.weight = server.weight;
    this.index = index;
    this.ejectMs = upstream.health.passive.ejectForMs;
    this.#ewmaStamp = now;
    const { keepalive, timeouts } = upstream;
    this.pool = new Http1Pool(server.url, {
      connections: keepalive.connections,
      idleTimeoutMs: keepalive.idleTimeoutMs,
      connectTimeoutMs: timeouts.connectMs,
      firstByteTimeoutMs: timeouts.firstByteMs,
      bodyIdleTimeoutMs: timeouts.idleMs,
    });
  }

  /** Not ejected by passive or active checks (an ejection whose time has passed still counts until the group notices). */
  get healthy(): boolean {
    return this.ejectedUntil === 0 && !this.activeDown;
  }

  /** May a balancer choose this peer? */
  get available(): boolean {
    return this.ejectedUntil === 0 && !this.activeDown && !this.trialBusy;
  }

  /**
   * Feed one latency sample into the peak-EWMA: a sample above the estimate replaces it at once
   * (react to slowness immediately), one below is blended in by the time since the last sample.
   */
  observe(latencyMs: number, now: number): void {
    if (latencyMs >= this.#ewma) {
      this.#ewma = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, now - this.#ewmaStamp) / EWMA_DECAY_MS);
      this.#ewma = this.#ewma * w + latencyMs * (1 - w);
    }
    this.#ewmaStamp = now;
  }

  /**
   * The latency estimate as of `now`. It decays towards zero while no sample arrives, as in
   * Finagle, so a peer avoided after one slow answer is eventually tried again.
   */
  ewmaAt(now: number): number {
    return this.#ewma * Math.exp(-Math.max(0, now - this.#ewmaStamp) / EWMA_DECAY_MS);
  }

  poolStats(): PoolStats {
    return this.pool.stats;
  }
}
