// The meaning of a pattern once flags are applied: everything is bytes, except Unicode-mode
// classes, which stay code point sets until they are compiled to UTF-8 automata.
import type { Ranges } from './intervals.ts';

export type Hir =
  | { readonly kind: 'empty' }
  /** A byte sequence (characters are already UTF-8 encoded). */
  | { readonly kind: 'literal'; readonly bytes: readonly number[] }
  /** One byte from a set; an empty set never matches. */
  | { readonly kind: 'byteClass'; readonly ranges: Ranges }
  /** One UTF-8 encoded scalar value from a set of code points. */
  | { readonly kind: 'charClass'; readonly ranges: Ranges }
  | { readonly kind: 'look'; readonly look: number }
  | {
      readonly kind: 'repeat';
      readonly min: number;
      /** undefined = unbounded. */
      readonly max: number | undefined;
      readonly greedy: boolean;
      readonly sub: Hir;
    }
  | { readonly kind: 'capture'; readonly index: number; readonly sub: Hir }
  | { readonly kind: 'concat'; readonly subs: readonly Hir[] }
  | { readonly kind: 'alternation'; readonly subs: readonly Hir[] };

export const EMPTY: Hir = { kind: 'empty' };

/** A concatenation without nested concatenations or empties, adjacent literals merged. */
export function concat(subs: readonly Hir[]): Hir {
  const flat: Hir[] = [];
  // The literal being extended, if the last item is one (built in place: a long run of single
  // characters must not be copied once per character).
  let pending: number[] | undefined;
  const add = (hir: Hir) => {
    if (hir.kind === 'empty') return;
    if (hir.kind === 'concat') {
      hir.subs.forEach(add);
      return;
    }
    if (hir.kind === 'literal' && pending !== undefined) {
      for (const byte of hir.bytes) pending.push(byte);
      return;
    }
    pending = undefined;
    if (hir.kind === 'literal') {
      pending = [...hir.bytes];
      flat.push({ kind: 'literal', bytes: pending });
    } else {
      flat.push(hir);
    }
  };
  subs.forEach(add);
  if (flat.length === 0) return EMPTY;
  return flat.length === 1 ? flat[0] : { kind: 'concat', subs: flat };
}

/** The fewest bytes a match of `hir` can have (Infinity: it never matches). */
export function minimumLength(hir: Hir): number {
  switch (hir.kind) {
    case 'empty':
    case 'look':
      return 0;
    case 'literal':
      return hir.bytes.length;
    case 'byteClass':
      return hir.ranges.length === 0 ? Infinity : 1;
    case 'charClass': {
      if (hir.ranges.length === 0) return Infinity;
      const first = hir.ranges[0];
      return first < 0x80 ? 1 : first < 0x800 ? 2 : first < 0x10000 ? 3 : 4;
    }
    case 'repeat':
      return hir.min === 0 ? 0 : hir.min * minimumLength(hir.sub);
    case 'capture':
      return minimumLength(hir.sub);
    case 'concat':
      return hir.subs.reduce((sum, sub) => sum + minimumLength(sub), 0);
    case 'alternation':
      return hir.subs.reduce((least, sub) => Math.min(least, minimumLength(sub)), Infinity);
  }
}

/**
 * The highest capture group index left in `hir`: Rust numbers groups as written but counts them
 * up to the last one that survives translation, so `(a){0}b` has none and `(a){0}(b)` two.
 */
export function highestCaptureIndex(hir: Hir): number {
  switch (hir.kind) {
    case 'capture':
      return Math.max(hir.index, highestCaptureIndex(hir.sub));
    case 'repeat':
      return highestCaptureIndex(hir.sub);
    case 'concat':
    case 'alternation':
      return hir.subs.reduce((highest, sub) => Math.max(highest, highestCaptureIndex(sub)), 0);
    default:
      return 0;
  }
}
