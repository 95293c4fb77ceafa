// Load-balancing policies (consistent hashing is in consistent-hash.ts). Each chooses among the
// peers that are currently available — the group hands over a new list whenever health changes, so
// `pick` never filters — and skips peers in `exclude` (origins this request already tried). `pick`
// runs once per request: it allocates nothing and walks the list at most twice.
import type { IncomingHttpHeaders } from 'node:http';
import type { Peer } from './peer.ts';

/** What a balancer may look at in a request. */
export interface PickRequest {
  clientAddress: string;
  /** Path and query as received. */
  url: string;
  /** Path without the query. */
  path: string;
  host: string;
  headers: IncomingHttpHeaders;
}

export interface Balancer {
  /** The peers that may be chosen from now on (a fresh array each time health changes). */
  update(available: readonly Peer[]): void;
  /** A peer from the last `update` that is not in `exclude`, or undefined when there is none. */
  pick(request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined;
}

export class RoundRobin implements Balancer {
  #peers: readonly Peer[] = [];
  #next = 0;

  update(available: readonly Peer[]): void {
    this.#peers = available;
  }

  pick(_request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const peers = this.#peers;
    const n = peers.length;
    let k = this.#next < n ? this.#next : 0;
    for (let tried = 0; tried < n; tried++) {
      const peer = peers[k];
      k = k + 1 === n ? 0 : k + 1;
      if (exclude === undefined || !exclude.has(peer)) {
        this.#next = k;
        return peer;
      }
    }
    return undefined;
  }
}

/**
 * nginx's smooth weighted round-robin: every pick adds each peer's weight to its current value,
 * takes the largest and subtracts the total from it. Weights 5:1:1 give a a b a c a a — the heavy
 * peer's turns are interleaved with the others, never a burst of five.
 */
export class SmoothWeighted implements Balancer {
  #peers: readonly Peer[] = [];
  /** Current weight per peer, by `peer.index`. */
  readonly #current: Float64Array;

  constructor(peerCount: number) {
    this.#current = new Float64Array(peerCount);
  }

  update(available: readonly Peer[]): void {
    this.#peers = available;
    // Restart the cycle: a returning peer's stale current weight would otherwise buy it a burst.
    this.#current.fill(0);
  }

  pick(_request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    return smoothWeightedPick(this.#peers, this.#current, exclude, undefined);
  }
}

/**
 * One step of smooth weighted round-robin over `peers` (not excluded and, when `tiedWith` is
 * given, only those with the same load relative to weight as it): add each weight to its
 * current value, take the largest, subtract the total from it.
 */
function smoothWeightedPick(
  peers: readonly Peer[],
  current: Float64Array,
  exclude: ReadonlySet<Peer> | undefined,
  tiedWith: Peer | undefined,
): Peer | undefined {
  let best: Peer | undefined;
  let total = 0;
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i];
    if (exclude !== undefined && exclude.has(peer)) continue;
    if (tiedWith !== undefined && peer.inflight * tiedWith.weight !== tiedWith.inflight * peer.weight) continue;
    current[peer.index] += peer.weight;
    total += peer.weight;
    if (best === undefined || current[peer.index] > current[best.index]) best = peer;
  }
  if (best !== undefined) current[best.index] -= total;
  return best;
}

/**
 * Fewest requests in flight relative to weight (compared as a.inflight * b.weight, no division).
 * Ties — all idle, typically — are settled by smooth weighted round-robin among the tied peers,
 * as nginx does, so light traffic still spreads by weight instead of piling on the first peer.
 */
export class LeastConnections implements Balancer {
  #peers: readonly Peer[] = [];
  readonly #current: Float64Array;

  constructor(peerCount: number) {
    this.#current = new Float64Array(peerCount);
  }

  update(available: readonly Peer[]): void {
    this.#peers = available;
    this.#current.fill(0);
  }

  pick(_request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const peers = this.#peers;
    let least: Peer | undefined;
    let ties = 0;
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[i];
      if (exclude !== undefined && exclude.has(peer)) continue;
      if (least === undefined) {
        least = peer;
        ties = 1;
        continue;
      }
      const a = peer.inflight * least.weight;
      const b = least.inflight * peer.weight;
      if (a < b) {
        least = peer;
        ties = 1;
      } else if (a === b) {
        ties++;
      }
    }
    if (least === undefined || ties === 1) return least;
    return smoothWeightedPick(peers, this.#current, exclude, least);
  }
}

/**
 * Power of two choices over latency × load (Finagle's and Linkerd's peak-EWMA): draw two distinct
 * peers at random and take the one with the lower `ewma * (inflight + 1)`. Sampling two instead
 * of scanning all keeps every worker from herding onto the same momentarily-best peer.
 */
export class PeakEwma implements Balancer {
  #peers: readonly Peer[] = [];
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(now: () => number, random: () => number) {
    this.#now = now;
    this.#random = random;
  }

  update(available: readonly Peer[]): void {
    this.#peers = available;
  }

  pick(_request: PickRequest, exclude: ReadonlySet<Peer> | undefined): Peer | undefined {
    const peers = this.#peers;
    const n = peers.length;
    if (n <= 1) return n === 1 && (exclude === undefined || !exclude.has(peers[0])) ? peers[0] : undefined;
    const i = Math.floor(this.#random() * n);
    let j = Math.floor(this.#random() * (n - 1));
    if (j >= i) j++;
    const a = peers[i];
    const b = peers[j];
    const aOut = exclude !== undefined && exclude.has(a);
    const bOut = exclude !== undefined && exclude.has(b);
    const now = this.#now();
    if (!aOut && !bOut) return cost(a, now) <= cost(b, now) ? a : b;
    if (!aOut) return a;
    if (!bOut) return b;
    // Both draws already tried (a retry): take the cheapest of the rest.
    let best: Peer | undefined;
    let bestCost = Infinity;
    for (let k = 0; k < n; k++) {
      const peer = peers[k];
      if (exclude?.has(peer)) continue;
      const c = cost(peer, now);
      if (best === undefined || c < bestCost) {
        best = peer;
        bestCost = c;
      }
    }
    return best;
  }
}

function cost(peer: Peer, now: number): number {
  return peer.ewmaAt(now) * (peer.inflight + 1);
}
