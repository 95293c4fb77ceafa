// The operator prefilter: which rules' regexes can match a value, decided for all of them in one
// pass. Every @rx pattern with a required literal set (a match contains one of its literals, see
// rules/regex/literals.ts) gets a bit; one Aho–Corasick automaton over all those literals marks,
// per value, the bits of the rules whose literals occur in it. A rule whose bit is clear cannot
// match the value and its regex is not run: on a benign request that is nearly every regex call.
import { MultiSearch } from '../rules/multi-search.ts';
import type { WafRule } from './rule.ts';

export class OperatorPrefilter {
  /** 32-bit words in one value's bitmap. */
  readonly words: number;
  readonly #search: MultiSearch;
  /** Literal id → the bits of the rules that need it. */
  readonly #bitsByLiteral: Int32Array[];

  /** Gives every rule (chain links included) with required literals its `prefilterBit`; undefined when none has any. */
  static build(rules: Iterable<WafRule>): OperatorPrefilter | undefined {
    const literalIds = new Map<string, number>();
    const bitsByLiteral: number[][] = [];
    let bits = 0;
    for (const rule of rules) {
      for (let link: WafRule | undefined = rule; link !== undefined; link = link.chain) {
        const literals = link.requiredLiterals;
        if (literals === undefined) continue;
        const bit = bits++;
        link.prefilterBit = bit;
        for (const literal of literals) {
          let id = literalIds.get(literal);
          if (id === undefined) {
            id = bitsByLiteral.length;
            literalIds.set(literal, id);
            bitsByLiteral.push([]);
          }
          bitsByLiteral[id].push(bit);
        }
      }
    }
    if (bits === 0) return undefined;
    return new OperatorPrefilter([...literalIds.keys()], bitsByLiteral.map((list) => Int32Array.from(list)), bits);
  }

  private constructor(literals: string[], bitsByLiteral: Int32Array[], bits: number) {
    this.words = (bits + 31) >>> 5;
    this.#search = new MultiSearch(literals, { foldAscii: true });
    this.#bitsByLiteral = bitsByLiteral;
  }

  /**
   * Writes at `offset` of `bitmaps` (`words` words, zero) the bitmap of the rules `value` may
   * match: all of them for a value that is not a byte string.
   */
  mark(value: string, bitmaps: Int32Array, offset: number): void {
    if (!this.#search.markBytes(value, this.#bitsByLiteral, bitmaps, offset)) bitmaps.fill(-1, offset, offset + this.words);
  }
}

export function hasBit(bitmaps: Int32Array, offset: number, bit: number): boolean {
  return (bitmaps[offset + (bit >>> 5)] & (1 << (bit & 31))) !== 0;
}
