// What the matcher can learn from a pattern's structure before searching: whether it is one plain
// literal, a literal every match starts with, a literal every match contains, and whether matches
// are anchored at the start or the end of the haystack. Byte strings are returned as binary strings,
// ready for `indexOf` on a haystack.
import type { Hir } from './hir.ts';
import { LOOK_END, LOOK_START } from './looks.ts';
import { encodeUtf8 } from './utf8.ts';

/** Longest prefix or required literal kept (a shorter needle is still a valid filter), and the longest repetition unrolled. */
const MAX_LITERAL = 256;

export interface Analysis {
  /** The pattern matches exactly this byte string, with no assertion (captures aside). */
  readonly literal: string | undefined;
  /** Every match starts with this (non-empty) byte string. */
  readonly prefix: string | undefined;
  /** Every match contains this (non-empty) byte string. */
  readonly required: string | undefined;
  /** Every match starts at the start of the haystack. */
  readonly anchoredStart: boolean;
  /** Every match ends at the end of the haystack. */
  readonly anchoredEnd: boolean;
}

export function analyze(hir: Hir): Analysis {
  const literal = exact(hir, false);
  const prefix = prefixOf(hir).bytes;
  const required = requiredOf(hir);
  return {
    literal: literal === undefined ? undefined : binary(literal),
    prefix: prefix.length > 0 ? binary(prefix.slice(0, MAX_LITERAL)) : undefined,
    required: required.length > 0 ? binary(required.slice(0, MAX_LITERAL)) : undefined,
    anchoredStart: anchored(hir, LOOK_START, 'first'),
    anchoredEnd: anchored(hir, LOOK_END, 'last'),
  };
}

function binary(bytes: readonly number[]): string {
  return Buffer.from(bytes).toString('latin1');
}

/**
 * The one byte string `hir` matches, if it matches exactly one. With `looksAreEmpty`, assertions
 * count as the empty string (they add no bytes, which is all that matters inside a larger literal).
 */
function exact(hir: Hir, looksAreEmpty: boolean): number[] | undefined {
  switch (hir.kind) {
    case 'empty':
      return [];
    case 'look':
      return looksAreEmpty ? [] : undefined;
    case 'literal':
      return [...hir.bytes];
    case 'byteClass':
      return hir.ranges.length === 2 && hir.ranges[0] === hir.ranges[1] ? [hir.ranges[0]] : undefined;
    case 'charClass':
      return hir.ranges.length === 2 && hir.ranges[0] === hir.ranges[1] ? encodeUtf8(hir.ranges[0]) : undefined;
    case 'capture':
      return exact(hir.sub, looksAreEmpty);
    case 'repeat': {
      if (hir.min !== hir.max || hir.min > MAX_LITERAL) return undefined;
      const once = exact(hir.sub, looksAreEmpty);
      if (once === undefined) return undefined;
      const out: number[] = [];
      for (let i = 0; i < hir.min && out.length <= MAX_LITERAL; i++) out.push(...once);
      return out.length <= MAX_LITERAL ? out : undefined;
    }
    case 'concat': {
      const out: number[] = [];
      for (const sub of hir.subs) {
        const part = exact(sub, looksAreEmpty);
        if (part === undefined) return undefined;
        out.push(...part);
      }
      return out;
    }
    case 'alternation':
      return undefined;
  }
}

/** The bytes every match starts with; `complete` when that is all a match can be. */
function prefixOf(hir: Hir): { bytes: number[]; complete: boolean } {
  const whole = exact(hir, true);
  if (whole !== undefined) return { bytes: whole, complete: true };
  switch (hir.kind) {
    case 'capture':
      return prefixOf(hir.sub);
    case 'repeat':
      return { bytes: hir.min > 0 ? prefixOf(hir.sub).bytes : [], complete: false };
    case 'concat': {
      const bytes: number[] = [];
      for (const sub of hir.subs) {
        const part = prefixOf(sub);
        bytes.push(...part.bytes);
        if (!part.complete || bytes.length > MAX_LITERAL) return { bytes, complete: false };
      }
      return { bytes, complete: true };
    }
    case 'alternation': {
      const prefixes = hir.subs.map((sub) => prefixOf(sub).bytes);
      let common = prefixes[0];
      for (const other of prefixes) {
        let i = 0;
        while (i < common.length && i < other.length && common[i] === other[i]) i++;
        common = common.slice(0, i);
      }
      return { bytes: common, complete: false };
    }
    default:
      return { bytes: [], complete: false };
  }
}

/** The longest byte string found in every match of `hir` (possibly empty). */
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
          run.push(...part);
          continue;
        }
        consider([...run, ...prefixOf(sub).bytes]);
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
