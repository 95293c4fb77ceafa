// The request's reach: which rules the prefilter lets match any value of the request at all.
// A value's reach (ValueMemos.merge) holds the bits of the rules its literals let match, each
// through the rule's own transformation chain; OR-ed over every value a transaction stores, it
// decides, before a rule's targets are collected, that a rule whose bit is clear cannot match any
// of them. On a benign request that is most of CRS: ~100 rules per request skip collecting their
// target set and testing its values one by one. Kept with each value, a reach is worked out once
// per value, for the chains of the rules that run; the request's is an OR of a few dozen bitmaps.
import type { WafRule } from './rule.ts';
import { changesWhileRulesRun, storedVariables, type StoredVariable } from './targets.ts';

/** A stored variable that rules decided by the reach read, with what they need of its values. */
export interface ReachSource extends StoredVariable {
  /** The chain slots (transformKey + 1) of those rules, as a bitset. */
  readonly slots: Int32Array;
  /** Those of them that are live (see RequestReach.live). */
  readonly liveSlots: Int32Array;
  /** Their bits: a value counts only for the rules that read it. */
  readonly mask: Int32Array;
}

export class RequestReach {
  /** By chain slot: the prefilter bits of the rules reading values through that chain (see ValueMemos). */
  readonly chainMasks: readonly (Int32Array | undefined)[];
  readonly sources: readonly ReachSource[];
  /**
   * The chain slots some rule has asked the reach about (a bitset). Only those are merged into the
   * values of every request: the chains of rules that never run (above the paranoia level) are
   * never applied.
   */
  readonly #live: Int32Array;

  /**
   * Gives `reachBit` to the rules the reach can decide: a prefilter bit, targets that rules do not
   * change (request and response data), no count, not negated, not multiMatch (which tests every
   * step of its chain, not the end of it).
   */
  constructor(rules: Iterable<WafRule>, words: number, chainSlots: number) {
    const chainMasks: (Int32Array | undefined)[] = new Array(chainSlots).fill(undefined);
    const slotWords = (chainSlots + 31) >>> 5;
    const sources = new Map<string, ReachSource>();
    for (const rule of rules) {
      for (let link: WafRule | undefined = rule; link !== undefined; link = link.chain) {
        const bit = link.prefilterBit;
        if (bit === -1 || link.multiMatch) continue;
        const word = bit >>> 5;
        const flag = 1 << (bit & 31);
        const slot = link.transformKey + 1;
        (chainMasks[slot] ??= new Int32Array(words))[word] |= flag;
        if (link.negated || link.targets.some((target) => target.count || changesWhileRulesRun(target.variable))) continue;
        link.reachBit = bit;
        for (const target of link.targets) {
          for (const variable of storedVariables(target.spec)) {
            const key = `${variable.name}${variable.names ? ' names' : ''}${variable.key === undefined ? '' : `:${variable.key}`}`;
            let source = sources.get(key);
            if (source === undefined) sources.set(key, (source = { ...variable, slots: new Int32Array(slotWords), liveSlots: new Int32Array(slotWords), mask: new Int32Array(words) }));
            source.slots[slot >>> 5] |= 1 << (slot & 31);
            source.mask[word] |= flag;
          }
        }
      }
    }
    this.chainMasks = chainMasks;
    this.sources = [...sources.values()];
    this.#live = new Int32Array(slotWords);
  }

  live(slot: number): boolean {
    return (this.#live[slot >>> 5] & (1 << (slot & 31))) !== 0;
  }

  /** Makes `slot` live: merged into the values of the sources read through it from now on. */
  makeLive(slot: number): void {
    const word = slot >>> 5;
    const flag = 1 << (slot & 31);
    this.#live[word] |= flag;
    for (const source of this.sources) if ((source.slots[word] & flag) !== 0) source.liveSlots[word] |= flag;
  }
}
