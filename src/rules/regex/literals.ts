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

/** Most literals in a required set (a larger alternation gives none), in an exact set, and bytes in a class taken apart. */
const MAX_REQUIRED_SET = 64;
const MAX_EXACT_SET = 16;
const MAX_CLASS_BYTES = 8;
/** Longest literal kept whole in an exact set (longer runs end the run; required literals are cut to this). */
const MAX_SET_LITERAL = 32;

/**
 * Literals of which every match contains at least one, compared ignoring ASCII case (A–Z are given
 * as a–z; other bytes as they are), or undefined when the pattern has no such set worth
 * searching for. Unlike `required`, this sees through alternations: `(?:union|select)\s` gives
 * ["union", "select"]. A multi-literal search over many patterns' sets tells, in one pass over a
 * value, which patterns cannot match it.
 */
export function requiredLiteralSet(hir: Hir): string[] | undefined {
  const required = factors(hir).required;
  if (score(required) < 2000 - MAX_REQUIRED_SET) return undefined;
  // A literal that contains another of the set adds nothing: the shorter one is found wherever it is.
  return required!.filter((literal) => !required!.some((other) => other !== literal && literal.includes(other)));
}

interface Factors {
  /** Every string the node matches (folded), when there are few; '' included when it can match nothing. */
  readonly exact: readonly string[] | undefined;
  /** Every match of the node contains one of these (non-empty, folded). */
  readonly required: readonly string[] | undefined;
}

const NOTHING_KNOWN: Factors = { exact: undefined, required: undefined };
const EMPTY_ONLY: Factors = { exact: [''], required: undefined };

function foldAscii(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/**
 * How well a required set filters: its weakest literal's weight (letters and digits count 1, other
 * bytes 2: they are rarer in text), less a little per literal; below 2000 (a single letter or
 * digit, which nearly every value contains) it is not worth searching for.
 */
function score(set: readonly string[] | undefined): number {
  if (set === undefined || set.length === 0) return -1;
  let weakest = Infinity;
  for (const literal of set) {
    let weight = 0;
    for (let i = 0; i < literal.length; i++) weight += isAlphanumeric(literal.charCodeAt(i)) ? 1 : 2;
    weakest = Math.min(weakest, weight);
  }
  return weakest * 1000 - set.length;
}

function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

function better(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  return score(b) > score(a) ? b : a;
}

/** `exact` as a required set, if none of its strings is empty. */
function exactAsRequired(exact: readonly string[] | undefined): readonly string[] | undefined {
  if (exact === undefined || exact.length === 0 || exact.length > MAX_REQUIRED_SET) return undefined;
  for (const s of exact) if (s.length === 0) return undefined;
  return exact;
}

function withExact(exact: readonly string[] | undefined, required: readonly string[] | undefined): Factors {
  return { exact, required: better(required, exactAsRequired(exact)) };
}

/** Every concatenation of a string of `a` with one of `b`, or undefined past the limits. */
function product(a: readonly string[], b: readonly string[]): string[] | undefined {
  if (a.length * b.length > MAX_EXACT_SET) return undefined;
  const out = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      if (x.length + y.length > MAX_SET_LITERAL) return undefined;
      out.add(x + y);
    }
  }
  return [...out];
}

function factors(hir: Hir): Factors {
  switch (hir.kind) {
    case 'empty':
    case 'look':
      return EMPTY_ONLY;
    case 'literal': {
      const text = String.fromCharCode(...hir.bytes.map(foldAscii));
      return text.length <= MAX_SET_LITERAL ? withExact([text], undefined) : { exact: undefined, required: [text.slice(0, MAX_SET_LITERAL)] };
    }
    case 'byteClass': {
      const chars = new Set<string>();
      for (let i = 0; i < hir.ranges.length; i += 2) {
        if (hir.ranges[i + 1] - hir.ranges[i] >= 2 * MAX_CLASS_BYTES + 2) return NOTHING_KNOWN;
        for (let byte = hir.ranges[i]; byte <= hir.ranges[i + 1]; byte++) chars.add(String.fromCharCode(foldAscii(byte)));
      }
      return chars.size === 0 || chars.size > MAX_CLASS_BYTES ? NOTHING_KNOWN : withExact([...chars], undefined);
    }
    case 'charClass':
      return NOTHING_KNOWN;
    case 'capture':
      return factors(hir.sub);
    case 'repeat': {
      if (hir.max === 0) return EMPTY_ONLY;
      const sub = factors(hir.sub);
      if (hir.min === 0) return { exact: hir.max === 1 && sub.exact !== undefined ? [...new Set(['', ...sub.exact])] : undefined, required: undefined };
      // Every match starts with min matches of the sub in a row.
      let power: readonly string[] | undefined = sub.exact;
      for (let i = 1; i < hir.min && power !== undefined; i++) power = product(power, sub.exact!);
      return { exact: hir.min === hir.max ? power : undefined, required: better(sub.required, exactAsRequired(power)) };
    }
    case 'concat': {
      // Runs of parts with exact sets multiply into longer literals; a part without one (or a
      // product past the limits) ends the run, which is then a candidate, as is each part's own set.
      let required: readonly string[] | undefined;
      let run: readonly string[] = [''];
      let whole = true;
      for (const sub of hir.subs) {
        const part = factors(sub);
        const joined = part.exact === undefined ? undefined : product(run, part.exact);
        if (joined !== undefined) {
          run = joined;
          continue;
        }
        whole = false;
        required = better(better(required, exactAsRequired(run)), part.required);
        run = part.exact ?? [''];
      }
      return withExact(whole ? run : undefined, better(required, exactAsRequired(run)));
    }
    case 'alternation': {
      const exact = new Set<string>();
      const required = new Set<string>();
      let exactKnown = true;
      let requiredKnown = true;
      for (const sub of hir.subs) {
        const part = factors(sub);
        if (part.exact === undefined) exactKnown = false;
        else if (exactKnown) for (const s of part.exact) exact.add(s);
        if (part.required === undefined) requiredKnown = false;
        else if (requiredKnown) for (const s of part.required) required.add(s);
      }
      return withExact(
        exactKnown && exact.size <= MAX_EXACT_SET ? [...exact] : undefined,
        requiredKnown && required.size <= MAX_REQUIRED_SET ? [...required] : undefined,
      );
    }
  }
}
