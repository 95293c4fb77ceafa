// One upstream: its peers, the balancing policy, and passive and active health.
//
// Passive health: `maxFails` consecutive failed requests eject a peer for `ejectForMs`. When the
// time is up the peer is re-admitted on trial (half-open): one request may go to it; success
// returns it to full rotation and resets the ejection time, failure ejects it again for twice as
// long (up to `maxEjectForMs`). Active checks, when configured, eject and re-admit independently;
// a peer is chosen only when neither holds it out.
import type { BalancePolicy, UpstreamConfig } from '../../config/types.ts';
import { type Balancer, LeastConnections, PeakEwma, type PickRequest, RoundRobin, SmoothWeighted } from './balance.ts';
import { ConsistentHash } from './consistent-hash.ts';
import { ActiveHealthChecks } from './health-check.ts';
import type { Http1Pool } from './http1-pool.ts';
import { Peer, type PoolStats } from './peer.ts';

/**
 * How an attempt ended. 'connect-error': no connection could be made; 'timeout': connect, first
 * byte or body idle timeout; 'error': any other failure of the exchange (reset, malformed
 * response). A response with any status, 5xx included, is 'ok' here: whether it is worth a retry
 * is the proxy's decision, not a sign the peer is down.
 */
export type Outcome = 'ok' | 'connect-error' | 'error' | 'timeout';

export interface UpstreamGroupOptions {
  /** Milliseconds on a monotonic clock; default `performance.now`. */
  now?: () => number;
  /** Uniform in [0, 1), for peak-ewma's random choices; default `Math.random`. */
  random?: () => number;
  /**
   * Called after a peer is ejected (`healthy` false) or re-admitted (true) by one mechanism;
   * `reason` reads well in parentheses after "ejected"/"re-admitted". A peer re-admitted by
   * active checks may still be held out by a passive ejection: `peer.healthy` has the total.
   */
  onHealthChange?: (peer: Peer, healthy: boolean, reason: string) => void;
}

export interface PeerSnapshot {
  upstream: string;
  origin: string;
  weight: number;
  healthy: boolean;
  inflight: number;
  ewmaMs: number;
  /** Consecutive failed requests. */
  fails: number;
  /** When the passive ejection ends, on the group's clock; 0 when not ejected. */
  ejectedUntil: number;
  /** Ejected by active health checks. */
  activeDown: boolean;
  pool: PoolStats;
}

export class UpstreamGroup {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly peers: readonly Peer[];
  readonly #balancer: Balancer;
  readonly #now: () => number;
  readonly #onHealthChange: ((peer: Peer, healthy: boolean, reason: string) => void) | undefined;
  readonly #checks: ActiveHealthChecks | undefined;
  /** Earliest end of a passive ejection; Infinity when none, so `pick` skips the clock. */
  #nextReadmitAt = Infinity;
  #fallbackNext = 0;
  #closing: Promise<void> | undefined;

  constructor(config: UpstreamConfig, options: UpstreamGroupOptions = {}) {
    this.name = config.name;
    this.config = config;
    this.#now = options.now ?? (() => performance.now());
    this.#onHealthChange = options.onHealthChange;
    const now = this.#now();
    this.peers = config.servers.map((server, i) => new Peer(config, server, i, now));
    this.#balancer = createBalancer(config.balance, this.peers, config.hashKey, this.#now, options.random ?? Math.random);
    this.#refresh();
    const active = config.health.active;
    this.#checks = active
      ? new ActiveHealthChecks(this.peers, active, (peer, pass, detail) => this.#activeResult(peer, pass, detail))
      : undefined;
  }

  /**
   * The peer for this request, never one in `exclude`. Call `started(peer)` right away, before
   * any await: a peer on trial must be marked busy before the next pick. Returns undefined only
   * when every peer is excluded.
   */
  pick(request: PickRequest, exclude?: ReadonlySet<Peer>): Peer | undefined {
    if (this.#nextReadmitAt !== Infinity && this.#now() >= this.#nextReadmitAt) this.#readmitDue();
    return this.#balancer.pick(request, exclude) ?? this.#fallback(exclude);
  }

  /** A request is being sent to `peer`. Pair every call with one `finished`. */
  started(peer: Peer): void {
    peer.inflight++;
    if (peer.onTrial && !peer.trialBusy) {
      peer.trialBusy = true;
      this.#refresh();
    }
  }

  /**
   * The exchange with `peer` is over (response fully relayed, or failed). `latencyMs` feeds the
   * peak-EWMA: time from sending the request to the response head, or to the failure. `detail`
   * (an error code such as ECONNREFUSED) only enriches the health-change reason.
   */
  finished(peer: Peer, outcome: Outcome, latencyMs: number, detail?: string): void {
    const now = this.#now();
    if (peer.inflight > 0) peer.inflight--;
    const failed = outcome !== 'ok';
    // A failure costs at least a connect timeout: a peer that refuses at once must not look fast.
    peer.observe(failed ? Math.max(latencyMs, this.config.timeouts.connectMs) : latencyMs, now);
    if (peer.staleInflight > 0) {
      peer.staleInflight--;
      return;
    }
    const passive = this.config.health.passive;
    const ejected = peer.ejectedUntil !== 0;
    if (!failed) {
      peer.fails = 0;
      peer.ejectMs = passive.ejectForMs;
      if (ejected || peer.onTrial) {
        peer.ejectedUntil = 0;
        peer.onTrial = false;
        peer.trialBusy = false;
        this.#refresh();
        if (ejected) this.#emit(peer, true, 'a request succeeded while it was ejected');
      }
      return;
    }
    const why = detail ? `${outcome} ${detail}` : outcome;
    if (peer.onTrial) this.#eject(peer, now, `trial request failed: ${why}`);
    else if (ejected) this.#eject(peer, now, `a request sent while ejected failed: ${why}`);
    else if (++peer.fails >= passive.maxFails) this.#eject(peer, now, `${peer.fails} consecutive failures, last: ${why}`);
  }

  snapshot(): PeerSnapshot[] {
    const now = this.#now();
    if (now >= this.#nextReadmitAt) this.#readmitDue();
    return this.peers.map((peer) => ({
      upstream: peer.upstream,
      origin: peer.origin,
      weight: peer.weight,
      healthy: peer.healthy,
      inflight: peer.inflight,
      ewmaMs: peer.ewmaAt(now),
      fails: peer.fails,
      ejectedUntil: peer.ejectedUntil,
      activeDown: peer.activeDown,
      pool: peer.poolStats(),
    }));
  }

  /** Stop health checks and close every pool, destroying those still busy after `timeoutMs`. */
  close(timeoutMs = 1000): Promise<void> {
    this.#closing ??= (async () => {
      await this.#checks?.stop();
      await Promise.all(this.peers.map((peer) => closeOrDestroy(peer.pool, timeoutMs)));
    })();
    return this.#closing;
  }

  #eject(peer: Peer, now: number, reason: string): void {
    const { maxEjectForMs } = this.config.health.passive;
    const ms = Math.min(peer.ejectMs, maxEjectForMs);
    peer.ejectedUntil = now + ms;
    peer.ejectMs = Math.min(ms * 2, maxEjectForMs);
    peer.fails = 0;
    peer.onTrial = false;
    peer.trialBusy = false;
    peer.staleInflight = peer.inflight;
    if (peer.ejectedUntil < this.#nextReadmitAt) this.#nextReadmitAt = peer.ejectedUntil;
    this.#refresh();
    this.#emit(peer, false, `${reason}; for ${ms} ms`);
  }

  /** Put peers whose ejection time has passed back on trial. */
  #readmitDue(): void {
    const now = this.#now();
    const readmitted: Peer[] = [];
    let next = Infinity;
    for (const peer of this.peers) {
      if (peer.ejectedUntil === 0) continue;
      if (now >= peer.ejectedUntil) {
        peer.ejectedUntil = 0;
        peer.onTrial = true;
        // From here every result counts: one absorbed as stale could be the trial's, leaving
        // the peer busy-on-trial, out of rotation, until an old long request ends.
        peer.staleInflight = 0;
        readmitted.push(peer);
      } else if (peer.ejectedUntil < next) {
        next = peer.ejectedUntil;
      }
    }
    this.#nextReadmitAt = next;
    if (readmitted.length === 0) return;
    this.#refresh();
    for (const peer of readmitted) this.#emit(peer, true, 'ejection time over; on trial');
  }

  #activeResult(peer: Peer, pass: boolean, detail: string): void {
    const active = this.config.health.active;
    if (active === undefined) return;
    // The streak counts results that disagree with the current verdict.
    if (pass !== peer.activeDown) {
      peer.activeStreak = 0;
      return;
    }
    peer.activeStreak++;
    if (peer.activeDown && peer.activeStreak >= active.healthyAfter) {
      peer.activeDown = false;
      peer.activeStreak = 0;
      this.#refresh();
      this.#emit(peer, true, `active check passed ${active.healthyAfter} times in a row: ${detail}`);
    } else if (!peer.activeDown && peer.activeStreak >= active.unhealthyAfter) {
      peer.activeDown = true;
      peer.activeStreak = 0;
      this.#refresh();
      this.#emit(peer, false, `active check failed ${active.unhealthyAfter} times in a row: ${detail}`);
    }
  }

  /**
   * No available peer outside `exclude`. Like nginx when all its servers are down, try one
   * anyway rather than fail every request: an origin back early is found by real traffic, and
   * an ejection is a guess, not proof. Take the peer whose passive ejection ends soonest (those
   * held out by active checks last); ties rotate so the attempts spread.
   */
  #fallback(exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const peers = this.peers;
    const n = peers.length;
    const start = this.#fallbackNext;
    this.#fallbackNext = start + 1 >= n ? 0 : start + 1;
    let best: Peer | undefined;
    let bestKey = Infinity;
    for (let k = 0; k < n; k++) {
      const peer = peers[(start + k) % n];
      if (exclude?.has(peer)) continue;
      const key = peer.activeDown ? Infinity : peer.ejectedUntil;
      if (best === undefined || key < bestKey) {
        best = peer;
        bestKey = key;
      }
    }
    return best;
  }

  #refresh(): void {
    this.#balancer.update(this.peers.filter((peer) => peer.available));
  }

  #emit(peer: Peer, healthy: boolean, reason: string): void {
    this.#onHealthChange?.(peer, healthy, reason);
  }
}

function createBalancer(
  policy: BalancePolicy,
  peers: readonly Peer[],
  hashKey: string,
  now: () => number,
  random: () => number,
): Balancer {
  switch (policy) {
    case 'round-robin':
      return new RoundRobin();
    case 'weighted':
      return new SmoothWeighted(peers.length);
    case 'least-connections':
      return new LeastConnections(peers.length);
    case 'consistent-hash':
      return new ConsistentHash(peers, hashKey);
    case 'peak-ewma':
      return new PeakEwma(now, random);
  }
}

async function closeOrDestroy(pool: Http1Pool, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([pool.close().then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) pool.destroy();
}
