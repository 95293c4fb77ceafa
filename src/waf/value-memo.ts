// What the rules work out about a value from the value alone — each transformation chain's
// result, the prefilter's bitmap, the results of the operators that scan it (with what they
// captured) — kept per rule set across transactions. Most of a request's
// values recur (user agents, Accept headers, hosts, cookie names, a session's cookie values,
// popular paths and arguments): for those the transformations, the literal scan, the regexes and
// libinjection run once per value, not once per request. Everything kept is a pure function of the value and the rule set,
// so a value's memo answers the same in every transaction.
import type { OperatorPrefilter } from './prefilter.ts';

export interface ValueMemo {
  readonly value: string;
  /** By transformation chain (transformKey, or a prefix of one): the memo of the value through that chain. */
  transformed: (ValueMemo | undefined)[] | undefined;
  /** The slab holding its prefilter bitmap (at `bitsAt`, `words` words); undefined until it is scanned. */
  bits: Int32Array | undefined;
  bitsAt: number;
  /**
   * The value this one is the lower case of: the prefilter ignores ASCII case, so its bitmap
   * serves (a superset when that value is no byte string: it has every bit).
   */
  caseVariantOf: ValueMemo | undefined;
  /** Results of operators on this value, each `slot << 1 | matched` (see WafRule.resultSlot); a value meets a handful. */
  results: number[] | undefined;
  /** For capturing operators that matched: slot, then the captures (see Captures), and so on. */
  captures: (number | Captures)[] | undefined;
  /**
   * The slab holding, at `reachAt`, the value's reach (see request-reach.ts): the prefilter bits
   * of the rules that may match it through their own transformation chains, one bit per chain
   * slot merged into those so far (see ValueMemos.merge), then by exact number whether each rule
   * decided by its kept results matched it, and whether that is known; undefined until first needed.
   */
  reach: Int32Array | undefined;
  reachAt: number;
}

/** What a capturing operator set: index, value, index, value... (TX:0–9). */
export type Captures = readonly (number | string)[];

/** The result kept in `memo` for the operator in `slot`: 1 matched, 0 not, -1 not known. */
export function recallResult(memo: ValueMemo, slot: number): number {
  const results = memo.results;
  if (results !== undefined) {
    for (let i = 0; i < results.length; i++) if (results[i] >>> 1 === slot) return results[i] & 1;
  }
  return -1;
}

export function keepResult(memo: ValueMemo, slot: number, matched: boolean): void {
  (memo.results ??= []).push((slot << 1) | (matched ? 1 : 0));
}

/** The captures kept in `memo` with the match of the operator in `slot`. */
export function recallCaptures(memo: ValueMemo, slot: number): Captures {
  const captures = memo.captures!;
  for (let i = 0; i < captures.length; i += 2) if (captures[i] === slot) return captures[i + 1] as Captures;
  throw new Error(`waf: the captures of result slot ${slot} are not kept`);
}

export function keepCaptures(memo: ValueMemo, slot: number, captures: Captures): void {
  (memo.captures ??= []).push(slot, captures);
}

function newMemo(value: string): ValueMemo {
  return { value, transformed: undefined, bits: undefined, bitsAt: 0, caseVariantOf: undefined, results: undefined, captures: undefined, reach: undefined, reachAt: 0 };
}

/** Values longer than this (bodies, long arguments) are remembered for their transaction only. */
const MAX_KEPT_LENGTH = 2048;
/** Bounds on what is kept: past either, everything kept is forgotten and kept anew. */
const MAX_KEPT_VALUES = 16_384;
const MAX_KEPT_CHARS = 4 << 20;
/** Bitmaps are cut from slabs of this many words: one typed array per value would cost more than its scan. */
const SLAB_WORDS = 16_384;

export class ValueMemos {
  readonly #prefilter: OperatorPrefilter | undefined;
  readonly #words: number;
  /** By chain slot (transformKey + 1): the prefilter bits of the rules reading values through that chain. */
  readonly #chainMasks: readonly (Int32Array | undefined)[];
  /** Words of a reach: the bitmap, one bit per chain slot, then exact results matched and known. */
  readonly #reachWords: number;
  /** Where a reach's exact results start, and their words. */
  readonly #exactAt: number;
  readonly #exactWords: number;
  #kept = new Map<string, ValueMemo>();
  #keptChars = 0;
  #slab: Int32Array;
  #slabEnd = 0;

  constructor(prefilter: OperatorPrefilter | undefined, chainMasks: readonly (Int32Array | undefined)[], exactWords: number) {
    this.#prefilter = prefilter;
    this.#words = prefilter?.words ?? 0;
    this.#chainMasks = chainMasks;
    this.#exactAt = this.#words + ((chainMasks.length + 31) >>> 5);
    this.#exactWords = exactWords;
    this.#reachWords = this.#exactAt + 2 * exactWords;
    this.#slab = new Int32Array(this.#words === 0 ? 0 : SLAB_WORDS);
  }

  /** The memo of `value`: the one kept across transactions, or for a long value a new one (the caller keeps it for its transaction). */
  memo(value: string): ValueMemo {
    if (value.length > MAX_KEPT_LENGTH) return newMemo(value);
    let memo = this.#kept.get(value);
    if (memo === undefined) {
      if (this.#kept.size >= MAX_KEPT_VALUES || this.#keptChars + value.length > MAX_KEPT_CHARS) this.forget();
      this.#keptChars += value.length;
      memo = newMemo(value);
      this.#kept.set(value, memo);
    }
    return memo;
  }

  /** Makes sure `memo` has its prefilter bitmap (the rule set must have a prefilter). */
  scan(memo: ValueMemo): void {
    if (memo.bits !== undefined) return;
    const variantOf = memo.caseVariantOf;
    if (variantOf !== undefined) {
      this.scan(variantOf);
      memo.bitsAt = variantOf.bitsAt;
      memo.bits = variantOf.bits;
      return;
    }
    if (memo.value.length > MAX_KEPT_LENGTH) {
      // Not kept, so not cut from a slab: a slab lives as long as any memo using it.
      memo.bits = new Int32Array(this.#words);
      this.#prefilter!.mark(memo.value, memo.bits, 0);
      return;
    }
    const at = this.#allocate(this.#words);
    this.#prefilter!.mark(memo.value, this.#slab, at);
    memo.bitsAt = at;
    memo.bits = this.#slab;
  }

  /** Whether the chain in `slot` is merged into the reach of `memo`. */
  merged(memo: ValueMemo, slot: number): boolean {
    const reach = memo.reach;
    return reach !== undefined && (reach[memo.reachAt + this.#words + (slot >>> 5)] & (1 << (slot & 31))) !== 0;
  }

  /**
   * Adds to the reach of `memo` the bits of the rules reading values through the chain in `slot`
   * that `through` (the value through that chain) may match. A rule's bit answers for its own
   * chain only, so a reach merged over the chains of the rules that read a value answers for all
   * of them; kept with the value, that is done once per value, not once per transaction.
   */
  merge(memo: ValueMemo, slot: number, through: ValueMemo): void {
    const reach = this.#reachOf(memo);
    this.scan(through);
    const at = memo.reachAt;
    const bits = through.bits!;
    const bitsAt = through.bitsAt;
    const mask = this.#chainMasks[slot]!;
    for (let w = 0; w < mask.length; w++) reach[at + w] |= bits[bitsAt + w] & mask[w];
    reach[at + this.#words + (slot >>> 5)] |= 1 << (slot & 31);
  }

  /** Whether the result of the rule with exact number `exact` on the value is kept in its reach. */
  exactKnown(memo: ValueMemo, exact: number): boolean {
    const reach = memo.reach;
    return reach !== undefined && (reach[memo.reachAt + this.#exactAt + this.#exactWords + (exact >>> 5)] & (1 << (exact & 31))) !== 0;
  }

  /** Whether the results of every rule in `exacts` (a bitset of exact numbers) are kept in the reach of `memo`. */
  exactKnownAll(memo: ValueMemo, exacts: Int32Array): boolean {
    const reach = memo.reach;
    if (reach === undefined) return false;
    const at = memo.reachAt + this.#exactAt + this.#exactWords;
    for (let w = 0; w < exacts.length; w++) if ((reach[at + w] & exacts[w]) !== exacts[w]) return false;
    return true;
  }

  keepExact(memo: ValueMemo, exact: number, matched: boolean): void {
    const reach = this.#reachOf(memo);
    const at = memo.reachAt + this.#exactAt + (exact >>> 5);
    const flag = 1 << (exact & 31);
    if (matched) reach[at] |= flag;
    reach[at + this.#exactWords] |= flag;
  }

  /** ORs the value's exact results within `exacts` into `into` from word `intoAt`. */
  joinExact(into: Int32Array, intoAt: number, memo: ValueMemo, exacts: Int32Array): void {
    const reach = memo.reach;
    if (reach === undefined) return;
    const at = memo.reachAt + this.#exactAt;
    for (let w = 0; w < exacts.length; w++) into[intoAt + w] |= reach[at + w] & exacts[w];
  }

  /** The reach of `memo`, made (zero) on first use. */
  #reachOf(memo: ValueMemo): Int32Array {
    if (memo.reach !== undefined) return memo.reach;
    if (memo.value.length > MAX_KEPT_LENGTH) {
      memo.reach = new Int32Array(this.#reachWords);
    } else {
      memo.reachAt = this.#allocate(this.#reachWords);
      memo.reach = this.#slab;
    }
    return memo.reach;
  }

  /** Whether every chain slot in `slots` (a bitset) is merged into the reach of `memo`. */
  mergedAll(memo: ValueMemo, slots: Int32Array): boolean {
    const reach = memo.reach;
    if (reach === undefined) return false;
    const at = memo.reachAt + this.#words;
    for (let w = 0; w < slots.length; w++) if ((reach[at + w] & slots[w]) !== slots[w]) return false;
    return true;
  }

  /** ORs the reach bits of `memo` within `mask` into `into`. */
  joinReach(into: Int32Array, memo: ValueMemo, mask: Int32Array): void {
    const reach = memo.reach;
    if (reach === undefined) return;
    const at = memo.reachAt;
    for (let w = 0; w < mask.length; w++) into[w] |= reach[at + w] & mask[w];
  }

  /** Room for `words` zeroed words in the current slab (their offset); a full slab is left to the memos that use it. */
  #allocate(words: number): number {
    if (this.#slabEnd + words > this.#slab.length) {
      this.#slab = new Int32Array(SLAB_WORDS);
      this.#slabEnd = 0;
    }
    const at = this.#slabEnd;
    this.#slabEnd += words;
    return at;
  }

  /**
   * Forgets every value kept: the next transactions work their values out again. Memos already
   * handed out stay valid for whoever holds them.
   */
  forget(): void {
    this.#kept = new Map();
    this.#keptChars = 0;
  }
}
