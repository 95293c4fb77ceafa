// What the matcher can learn from a pattern's structure before searching: whether it is one plain
// literal, a literal every match starts with, a literal every match contains, and whether matches
// are anchored at the start or the end of the haystack.
//
// Literals may be ASCII case-insensitive (`(?i)googlebot`): such a needle is searched for in the
// haystack's `toLowerCase()`, which for a byte string maps each byte to one byte (A-Z and
// U+00C0–U+00DE, × excepted, to their lower case), so positions do not move.
import type { Hir } from './hir.ts';
import { LOOK_END, LOOK_START } from './looks.ts';
import { encodeUtf8 } from './utf8.ts';

/** Longest prefix or required literal kept (a shorter needle is still a valid filter), and the longest repetition unrolled. */
const MAX_LITERAL = 256;

/** A string to find with `indexOf`: in the haystack itself, or (`folded`) in its `toLowerCase()`. */
export interface Needle {
  readonly text: string;
  readonly folded: boolean;
}

export interface Analysis {
  /** Matching is exactly finding this needle: the pattern is a literal, without any assertion. */
  readonly literal: Needle | undefined;
  /** Every match starts with an occurrence of this (non-empty) needle. */
  readonly prefix: Needle | undefined;
  /** Every match contains an occurrence of this (non-empty) needle. */
  readonly required: Needle | undefined;
  /** Every match starts at the start of the haystack. */
  readonly anchoredStart: boolean;
  /** Every match ends at the end of the haystack. */
  readonly anchoredEnd: boolean;
}

export function analyze(hir: Hir): Analysis {
  const literal = exact(hir, false);
  const prefix = prefixOf(hir).units;
  const required = requiredOf(hir);
  return {
    literal: literal !== undefined && (literal.every((unit) => unit < CASELESS) || literal.every(foldsExactly)) ? needle(literal) : undefined,
    prefix: prefix.length > 0 ? needle(prefix.slice(0, MAX_LITERAL)) : undefined,
    required: required.length > 0 ? needle(required.slice(0, MAX_LITERAL)) : undefined,
    anchoredStart: anchored(hir, LOOK_START, 'first'),
    anchoredEnd: anchored(hir, LOOK_END, 'last'),
  };
}

/**
 * A literal is a list of units: a byte (0–255) that must be there as is, or CASELESS + a lower-case
 * ASCII letter that may be there in either case.
 */
const CASELESS = 256;

function needle(units: readonly number[]): Needle {
  const folded = units.some((unit) => unit >= CASELESS);
  const bytes = units.map((unit) => (unit >= CASELESS ? unit - CASELESS : folded ? lowerCase(unit) : unit));
  return { text: Buffer.from(bytes).toString('latin1'), folded };
}

/** What String.prototype.toLowerCase does to a byte. */
function lowerCase(byte: number): number {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0xc0 && byte <= 0xde && byte !== 0xd7) ? byte + 0x20 : byte;
}

/**
 * Whether searching the lowered haystack finds this unit exactly: caseless letters do, and bytes
 * that neither change when lowered nor are the lowered form of another byte.
 */
function foldsExactly(unit: number): boolean {
  return unit >= CASELESS || (lowerCase(unit) === unit && !(unit >= 0x61 && unit <= 0x7a) && !(unit >= 0xe0 && unit <= 0xfe && unit !== 0xf7));
}

/** One unit for a class of one byte or of the two cases of an ASCII letter. */
function classUnit(ranges: readonly number[]): number | undefined {
  if (ranges.length === 2 && ranges[0] === ranges[1]) return ranges[0];
  // [A-Za-z] pairs come as two single-byte ranges, upper case first.
  if (ranges.length === 4 && ranges[0] === ranges[1] && ranges[2] === ranges[3] && ranges[0] >= 0x41 && ranges[0] <= 0x5a && ranges[2] === ranges[0] + 0x20) {
    return CASELESS + ranges[2];
  }
  return undefined;
}

/**
 * The one literal `hir` matches, if it matches exactly one. With `looksAreEmpty`, assertions count
 * as the empty string (they add no bytes, which is all that matters inside a larger literal).
 */
function exact(hir: Hir, looksAreEmpty: boolean): number[] | undefined {
  switch (hir.kind) {
    case 'empty':
      return [];
    case 'look':
      return looksAreEmpty ? [] : undefined;
    case 'literal':
      return [...hir.bytes];
    case 'byteClass': {
      const unit = classUnit(hir.ranges);
      return unit === undefined ? undefined : [unit];
    }
    case 'charClass':
      return hir.ranges.length === 2 && hir.ranges[0] === hir.ranges[1] ? encodeUtf8(hir.ranges[0]) : undefined;
    case 'capture':
      return exact(hir.sub, looksAreEmpty);
    case 'repeat': {
      if (hir.min !== hir.max || hir.min > MAX_LITERAL) return undefined;
      const once = exact(hir.sub, looksAreEmpty);
      if (once === undefined) return undefined;
      const out: number[] = [];
      for (let i = 0; i < hir.min && out.length <= MAX_LITERAL; i++) append(out, once);
      return out.length <= MAX_LITERAL ? out : undefined;
    }
    case 'concat': {
      const out: number[] = [];
      for (const sub of hir.subs) {
        const part = exact(sub, looksAreEmpty);
        if (part === undefined) return undefined;
        append(out, part);
      }
      return out;
    }
    case 'alternation':
      return undefined;
  }
}

/** The units every match starts with; `complete` when that is all a match can be. */
function prefixOf(hir: Hir): { units: number[]; complete: boolean } {
  const whole = exact(hir, true);
  if (whole !== undefined) return { units: whole, complete: true };
  switch (hir.kind) {
    case 'capture':
      return prefixOf(hir.sub);
    case 'repeat':
      return { units: hir.min > 0 ? prefixOf(hir.sub).units : [], complete: false };
    case 'concat': {
      const units: number[] = [];
      for (const sub of hir.subs) {
        const part = prefixOf(sub);
        append(units, part.units);
        if (!part.complete || units.length > MAX_LITERAL) return { units, complete: false };
      }
      return { units, complete: true };
    }
    case 'alternation': {
      const prefixes = hir.subs.map((sub) => prefixOf(sub).units);
      let common = prefixes[0];
      for (const other of prefixes) {
        let i = 0;
        while (i < common.length && i < other.length && common[i] === other[i]) i++;
        common = common.slice(0, i);
      }
      return { units: common, complete: false };
    }
    default:
      return { units: [], complete: false };
  }
}

/** The longest literal found in every match of `hir` (possibly empty). */
function requiredOf(hir: Hir): number[] {
  const whole = exact(hir, true);
  if (whole !== undefined) return whole;
  switch (hir.kind) {
    case 'capture':
      return requiredOf(hir.sub);
    case 'repeat':
      return hir.min > 0 ? requiredOf(hir.sub) : [];
    case 'concat': {
      // Candidates: each part's own requirement, and each run of exact parts continued by the
      // prefix of the part that ends it.
      let best: number[] = [];
      let run: number[] = [];
      const consider = (candidate: number[]) => {
        if (candidate.length > best.length) best = candidate;
      };
      for (const sub of hir.subs) {
        const part = exact(sub, true);
        if (part !== undefined) {
          append(run, part);
          continue;
        }
        consider([...run, ...prefixOf(sub).units]);
        consider(requiredOf(sub));
        run = [];
      }
      consider(run);
      return best;
    }
    default:
      return [];
  }
}

/** Whether every match begins (`first`) or ends (`last`) with the assertion `look`. */
function anchored(hir: Hir, look: number, side: 'first' | 'last'): boolean {
  switch (hir.kind) {
    case 'look':
      return hir.look === look;
    case 'capture':
      return anchored(hir.sub, look, side);
    case 'repeat':
      return hir.min > 0 && anchored(hir.sub, look, side);
    case 'concat':
      return anchored(hir.subs[side === 'first' ? 0 : hir.subs.length - 1], look, side);
    case 'alternation':
      return hir.subs.every((sub) => anchored(sub, look, side));
    default:
      return false;
  }
}

/** `push(...items)` without the argument-count limit of a spread call. */
function append(to: number[], items: readonly number[]): void {
  for (const item of items) to.push(item);
}
