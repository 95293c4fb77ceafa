// All upstreams of a configuration, by name. One instance per worker: each worker keeps its own
// pools and its own view of peer health.
import type { UpstreamConfig } from '../../config/types.ts';
import { type PeerSnapshot, UpstreamGroup } from './group.ts';
import type { Peer } from './peer.ts';

export type { PickRequest } from './balance.ts';
export type { Outcome, PeerSnapshot, UpstreamGroupOptions } from './group.ts';
export { UpstreamGroup } from './group.ts';
export type { Peer, PoolStats } from './peer.ts';

export interface UpstreamsOptions {
  /** Milliseconds on a monotonic clock; default `performance.now`. */
  now?: () => number;
  /** Uniform in [0, 1); default `Math.random`. */
  random?: () => number;
  /** A peer was ejected (`healthy` false) or re-admitted; see `UpstreamGroupOptions.onHealthChange`. */
  onHealthChange?: (upstream: string, origin: string, healthy: boolean, reason: string) => void;
}

export class Upstreams {
  readonly #groups = new Map<string, UpstreamGroup>();

  constructor(upstreams: ReadonlyMap<string, UpstreamConfig>, options: UpstreamsOptions = {}) {
    const { now, random, onHealthChange } = options;
    const groupOptions = {
      now,
      random,
      onHealthChange: onHealthChange && ((peer: Peer, healthy: boolean, reason: string) => onHealthChange(peer.upstream, peer.origin, healthy, reason)),
    };
    for (const [name, config] of upstreams) this.#groups.set(name, new UpstreamGroup(config, groupOptions));
  }

  /** The group named `name`; throws for an unknown name (routes are checked against upstreams when the config loads). */
  get(name: string): UpstreamGroup {
    const group = this.#groups.get(name);
    if (group === undefined) throw new Error(`no upstream named "${name}"`);
    return group;
  }

  /** Every peer of every upstream (flat, `upstream` names the group): health, load and pool figures. */
  snapshot(): PeerSnapshot[] {
    return [...this.#groups.values()].flatMap((group) => group.snapshot());
  }

  /** Stop health checks and close all pools; see `UpstreamGroup.close`. */
  async close(timeoutMs?: number): Promise<void> {
    await Promise.all([...this.#groups.values()].map((group) => group.close(timeoutMs)));
  }
}
