// The request's reach: which rules can match any value of the request at all, decided before a
// rule's targets are collected. Each value keeps, with what else is known about it
// (ValueMemos), its own reach: for rules with literals, the prefilter bits its literals let match,
// each through the rule's own transformation chain (merged chain by chain); for rules without
// literals whose results are kept per value (libinjection, byte-range checks, regexes without
// literals, multiMatch rules), whether the rule matched it. OR-ed over the values each rule's
// targets may read, a clear bit skips the rule: on a benign request that is nearly every rule
// that reads request data. Only what rules that have run need is worked out (the chains and rules
// above the paranoia level never are), once per value; the request's reach is an OR of a few
// dozen small bitmaps.
import type { WafRule } from './rule.ts';
import { changesWhileRulesRun, storedVariables, type StoredVariable } from './targets.ts';

/** A stored variable that rules decided by the reach read, with what they need of its values. */
export interface ReachSource extends StoredVariable {
  /** Its position in RequestReach.sources. */
  readonly index: number;
  /** The chain slots (transformKey + 1) of the rules with literals that read it, as a bitset. */
  readonly slots: Int32Array;
  /** Those of them that are live (see RequestReach.live). */
  readonly liveSlots: Int32Array;
  /** Their prefilter bits: a value counts only for the rules that read it. */
  readonly mask: Int32Array;
  /** The rules decided by kept results that read it, by exact number (see RequestReach.exactRules). */
  readonly exactMask: Int32Array;
  /** Those of them that are live. */
  readonly liveExactMask: Int32Array;
}

export class RequestReach {
  /** By chain slot: the prefilter bits of the rules reading values through that chain (see ValueMemos). */
  readonly chainMasks: readonly (Int32Array | undefined)[];
  readonly sources: readonly ReachSource[];
  /** Words of the prefilter's bitmap: a request's reach holds it, then one bit per rule decided by kept results. */
  readonly prefilterWords: number;
  /** The rules decided by their kept results, by exact number (their reachBit less prefilterWords × 32). */
  readonly exactRules: readonly WafRule[];
  /** Words of a bitset of exact numbers. */
  readonly exactWords: number;
  /**
   * The chain slots some rule has asked the reach about (a bitset). Only those are merged into the
   * values of every request: the chains of rules that never run (above the paranoia level) are
   * never applied.
   */
  readonly #live: Int32Array;
  /** The same for the rules decided by kept results, by exact number. */
  readonly #liveExact: Int32Array;

  /**
   * Gives `reachBit` to the rules the reach can decide: targets that rules do not change (request
   * and response data), no count, not negated; and a prefilter bit (the reach says whether a value
   * may match), or results kept per value (it says whether one did). multiMatch rules test every
   * step of their chain, not its end: they are decided by their kept results.
   */
  constructor(rules: Iterable<WafRule>, prefilterWords: number, chainSlots: number) {
    const chainMasks: (Int32Array | undefined)[] = new Array(chainSlots).fill(undefined);
    const slotWords = (chainSlots + 31) >>> 5;
    const decided: WafRule[] = [];
    const exactRules: WafRule[] = [];
    for (const rule of rules) {
      for (let link: WafRule | undefined = rule; link !== undefined; link = link.chain) {
        const bit = link.prefilterBit;
        if (link.operator === undefined) continue;
        const literal = bit !== -1 && !link.multiMatch;
        if (literal) (chainMasks[link.transformKey + 1] ??= new Int32Array(prefilterWords))[bit >>> 5] |= 1 << (bit & 31);
        if (link.negated || link.targets.some((target) => target.count || changesWhileRulesRun(target.variable))) continue;
        if (literal) {
          link.reachBit = bit;
        } else if (link.resultSlot !== -1) {
          link.reachBit = (prefilterWords << 5) + exactRules.length;
          exactRules.push(link);
        } else {
          continue;
        }
        decided.push(link);
      }
    }
    const exactWords = (exactRules.length + 31) >>> 5;
    const sources = new Map<string, ReachSource>();
    for (const link of decided) {
      const literal = exactRules.indexOf(link) === -1;
      const bit = literal ? link.reachBit : link.reachBit - (prefilterWords << 5);
      const slot = link.transformKey + 1;
      for (const target of link.targets) {
        for (const variable of storedVariables(target.spec)) {
          const key = `${variable.name}${variable.names ? ' names' : ''}${variable.key === undefined ? '' : `:${variable.key}`}`;
          let source = sources.get(key);
          if (source === undefined) {
            source = {
              ...variable,
              index: sources.size,
              slots: new Int32Array(slotWords),
              liveSlots: new Int32Array(slotWords),
              mask: new Int32Array(prefilterWords),
              exactMask: new Int32Array(exactWords),
              liveExactMask: new Int32Array(exactWords),
            };
            sources.set(key, source);
          }
          if (literal) {
            source.slots[slot >>> 5] |= 1 << (slot & 31);
            source.mask[bit >>> 5] |= 1 << (bit & 31);
          } else {
            source.exactMask[bit >>> 5] |= 1 << (bit & 31);
          }
        }
      }
    }
    this.chainMasks = chainMasks;
    this.sources = [...sources.values()];
    this.prefilterWords = prefilterWords;
    this.exactRules = exactRules;
    this.exactWords = exactWords;
    this.#live = new Int32Array(slotWords);
    this.#liveExact = new Int32Array(exactWords);
  }

  /** Words of a request's reach. */
  get words(): number {
    return this.prefilterWords + this.exactWords;
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

  /** Whether the rule with this exact number has run: only those are worked out for every request. */
  exactLive(exact: number): boolean {
    return (this.#liveExact[exact >>> 5] & (1 << (exact & 31))) !== 0;
  }

  makeExactLive(exact: number): void {
    const word = exact >>> 5;
    const flag = 1 << (exact & 31);
    this.#liveExact[word] |= flag;
    for (const source of this.sources) if ((source.exactMask[word] & flag) !== 0) source.liveExactMask[word] |= flag;
  }
}
