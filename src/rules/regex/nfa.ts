// HIR → Thompson NFA over bytes, in flat typed arrays for the matchers. Splits list their targets
// in priority order (leftmost-first); repetitions are compiled as Rust's compiler does, so that
// the Pike VM reports the same captures. A reverse NFA (for searching backwards from the end of
// the haystack) is the same automaton for the reversed language, without captures.
//
// Every state is charged to a memory budget as it is made, and a cheap lower bound of the total
// is checked first, so that `a{1000}{1000}` is rejected without building anything.
import type { Hir } from './hir.ts';
import { minimumLength } from './hir.ts';
import { utf8Sequences } from './utf8.ts';

export const STATE_EMPTY = 0;
/** Byte transitions: `a` = offset of the first (lo, hi, next) triple in `ranges`, `b` = their count. */
export const STATE_BYTES = 1;
/** Epsilon transitions in priority order: `a` = offset in `targets`, `b` = their count. */
export const STATE_SPLIT = 2;
/** A zero-width assertion: `a` = next state, `b` = look kind. */
export const STATE_LOOK = 3;
/** Records the position in capture slot `b`, then goes to `a`. */
export const STATE_CAPTURE = 4;
export const STATE_MATCH = 5;

export interface Nfa {
  readonly kind: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly ranges: Int32Array;
  readonly targets: Int32Array;
  readonly start: number;
  readonly stateCount: number;
  /** Capture slots (2 per group, group 0 included); 0 for a reverse NFA. */
  readonly slotCount: number;
  /** Bit i set: look kind i occurs. */
  readonly looks: number;
}

/** Thrown when the budget is exceeded; the caller turns it into a syntax error. */
export class SizeLimitExceeded extends Error {}

// What each piece is charged, in bytes (roughly what a compact native representation would take).
const STATE_COST = 16;
const RANGE_COST = 12;
const TARGET_COST = 4;

export function compileNfa(hir: Hir, groupCount: number, reverse: boolean, sizeLimit: number): Nfa {
  if (lowerBoundCost(hir) > sizeLimit) throw new SizeLimitExceeded();
  const builder = new Builder(reverse, sizeLimit);
  const body = reverse ? builder.compile(hir) : builder.compile({ kind: 'capture', index: 0, sub: hir });
  const match = builder.add(STATE_MATCH);
  builder.patch(body.end, match);
  return builder.freeze(body.start, reverse ? 0 : 2 * (groupCount + 1));
}

/** A cost no compilation of `hir` can stay under (cheap to compute, no allocation). */
function lowerBoundCost(hir: Hir): number {
  switch (hir.kind) {
    case 'empty':
    case 'look':
      return STATE_COST;
    case 'literal':
      return hir.bytes.length * (STATE_COST + RANGE_COST);
    case 'byteClass':
      return STATE_COST + (hir.ranges.length / 2) * RANGE_COST;
    case 'charClass':
      return STATE_COST;
    case 'repeat':
      return hir.max === 0 ? STATE_COST : Math.max(hir.min, hir.max ?? hir.min, 1) * lowerBoundCost(hir.sub);
    case 'capture':
      return 2 * STATE_COST + lowerBoundCost(hir.sub);
    case 'concat':
    case 'alternation':
      return hir.subs.reduce((sum, sub) => sum + lowerBoundCost(sub), 0);
  }
}

/** A compiled piece: its entry state and the state whose outgoing edge is still to be set. */
interface Fragment {
  readonly start: number;
  readonly end: number;
}

class Builder {
  private readonly reverse: boolean;
  private readonly sizeLimit: number;
  private memory = 0;
  private readonly kinds: number[] = [];
  /** EMPTY, LOOK, CAPTURE: the next state (-1 = not yet patched). */
  private readonly nexts: number[] = [];
  /** LOOK: the look kind; CAPTURE: the slot. */
  private readonly args: number[] = [];
  /** BYTES: flattened (lo, hi, next) triples. */
  private readonly byteRanges: (number[] | undefined)[] = [];
  /** SPLIT: targets in the order they were patched. */
  private readonly splitTargets: (number[] | undefined)[] = [];
  /** SPLIT: whether priority is the reverse of the patch order (lazy repetitions). */
  private readonly lazySplits = new Set<number>();

  constructor(reverse: boolean, sizeLimit: number) {
    this.reverse = reverse;
    this.sizeLimit = sizeLimit;
  }

  private charge(bytes: number): void {
    this.memory += bytes;
    if (this.memory > this.sizeLimit) throw new SizeLimitExceeded();
  }

  add(kind: number, arg = 0): number {
    this.charge(STATE_COST);
    this.kinds.push(kind);
    this.nexts.push(-1);
    this.args.push(arg);
    this.byteRanges.push(undefined);
    this.splitTargets.push(kind === STATE_SPLIT ? [] : undefined);
    return this.kinds.length - 1;
  }

  private addBytes(triples: number[]): number {
    this.charge((triples.length / 3) * RANGE_COST);
    const id = this.add(STATE_BYTES);
    this.byteRanges[id] = triples;
    return id;
  }

  private addSplit(greedy: boolean): number {
    const id = this.add(STATE_SPLIT);
    if (!greedy) this.lazySplits.add(id);
    return id;
  }

  patch(from: number, to: number): void {
    if (this.kinds[from] === STATE_SPLIT) {
      this.charge(TARGET_COST);
      this.splitTargets[from]!.push(to);
    } else {
      this.nexts[from] = to;
    }
  }

  compile(hir: Hir): Fragment {
    switch (hir.kind) {
      case 'empty': {
        const id = this.add(STATE_EMPTY);
        return { start: id, end: id };
      }
      case 'literal': {
        const bytes = this.reverse ? [...hir.bytes].reverse() : hir.bytes;
        const end = this.add(STATE_EMPTY);
        let next = end;
        for (let i = bytes.length - 1; i >= 0; i--) next = this.addBytes([bytes[i], bytes[i], next]);
        return { start: next, end };
      }
      case 'byteClass': {
        const end = this.add(STATE_EMPTY);
        const triples: number[] = [];
        for (let i = 0; i < hir.ranges.length; i += 2) triples.push(hir.ranges[i], hir.ranges[i + 1], end);
        return { start: this.addBytes(triples), end };
      }
      case 'charClass':
        return this.utf8Class(hir.ranges);
      case 'look': {
        const id = this.add(STATE_LOOK, hir.look);
        return { start: id, end: id };
      }
      case 'capture': {
        if (this.reverse) return this.compile(hir.sub);
        const open = this.add(STATE_CAPTURE, 2 * hir.index);
        const sub = this.compile(hir.sub);
        const close = this.add(STATE_CAPTURE, 2 * hir.index + 1);
        this.patch(open, sub.start);
        this.patch(sub.end, close);
        return { start: open, end: close };
      }
      case 'concat':
        return this.sequence(this.reverse ? [...hir.subs].reverse() : hir.subs, 1);
      case 'alternation': {
        const split = this.addSplit(true);
        const end = this.add(STATE_EMPTY);
        for (const sub of hir.subs) {
          const piece = this.compile(sub);
          this.patch(split, piece.start);
          this.patch(piece.end, end);
        }
        return { start: split, end };
      }
      case 'repeat':
        return this.repeat(hir.sub, hir.min, hir.max, hir.greedy);
    }
  }

  /** `subs` one after the other, the whole list `times` times. */
  private sequence(subs: readonly Hir[], times: number): Fragment {
    let first: Fragment | undefined;
    let end = -1;
    for (let t = 0; t < times; t++) {
      for (const sub of subs) {
        const piece = this.compile(sub);
        if (first === undefined) first = piece;
        else this.patch(end, piece.start);
        end = piece.end;
      }
    }
    if (first === undefined) {
      const id = this.add(STATE_EMPTY);
      return { start: id, end: id };
    }
    return { start: first.start, end };
  }

  private repeat(sub: Hir, min: number, max: number | undefined, greedy: boolean): Fragment {
    if (max === undefined) return this.atLeast(sub, min, greedy);
    if (min === 0 && max === 1) {
      const split = this.addSplit(greedy);
      const piece = this.compile(sub);
      const end = this.add(STATE_EMPTY);
      this.patch(split, piece.start);
      this.patch(split, end);
      this.patch(piece.end, end);
      return { start: split, end };
    }
    const prefix = this.sequence([sub], min);
    if (min === max) return prefix;
    // x{2,5} is xx(x(x(x)?)?)?: every optional copy can skip straight to the end, which keeps the
    // epsilon closures small.
    const end = this.add(STATE_EMPTY);
    let previous = prefix.end;
    for (let i = min; i < max; i++) {
      const split = this.addSplit(greedy);
      const piece = this.compile(sub);
      this.patch(previous, split);
      this.patch(split, piece.start);
      this.patch(split, end);
      previous = piece.end;
    }
    this.patch(previous, end);
    return { start: prefix.start, end };
  }

  private atLeast(sub: Hir, min: number, greedy: boolean): Fragment {
    if (min === 0) {
      if (minimumLength(sub) > 0) {
        const split = this.addSplit(greedy);
        const piece = this.compile(sub);
        this.patch(split, piece.start);
        this.patch(piece.end, split);
        return { start: split, end: split };
      }
      // x* with an x that can match the empty string is compiled as (x+)?: the loop-back edge
      // would otherwise win over leaving the loop in the wrong order (Rust's issue 779).
      const piece = this.compile(sub);
      const plus = this.addSplit(greedy);
      this.patch(piece.end, plus);
      this.patch(plus, piece.start);
      const question = this.addSplit(greedy);
      const end = this.add(STATE_EMPTY);
      this.patch(question, piece.start);
      this.patch(question, end);
      this.patch(plus, end);
      return { start: question, end };
    }
    const prefix = min > 1 ? this.sequence([sub], min - 1) : undefined;
    const last = this.compile(sub);
    const split = this.addSplit(greedy);
    if (prefix !== undefined) this.patch(prefix.end, last.start);
    this.patch(last.end, split);
    this.patch(split, last.start);
    return { start: prefix?.start ?? last.start, end: split };
  }

  /**
   * A Unicode class as a UTF-8 automaton: the byte-range sequences of its code point ranges form
   * a trie (reversed sequences for a reverse NFA), and trie nodes with identical transitions share
   * one state, which merges the common suffixes ([80-BF] continuations and the like).
   */
  private utf8Class(codePoints: readonly number[]): Fragment {
    interface Node {
      readonly edges: Map<string, { lo: number; hi: number; child: Node | undefined }>;
    }
    const root: Node = { edges: new Map() };
    for (let i = 0; i < codePoints.length; i += 2) {
      utf8Sequences(codePoints[i], codePoints[i + 1], (sequence) => {
        const steps: [number, number][] = [];
        for (let j = 0; j < sequence.length; j += 2) steps.push([sequence[j], sequence[j + 1]]);
        if (this.reverse) steps.reverse();
        let node = root;
        steps.forEach(([lo, hi], j) => {
          const key = `${lo},${hi}`;
          let edge = node.edges.get(key);
          if (edge === undefined) node.edges.set(key, (edge = { lo, hi, child: undefined }));
          if (j < steps.length - 1) node = edge.child ??= { edges: new Map() };
        });
      });
    }
    const end = this.add(STATE_EMPTY);
    const shared = new Map<string, number>();
    const stateOf = (node: Node): number => {
      const triples: number[] = [];
      for (const edge of node.edges.values()) {
        triples.push(edge.lo, edge.hi, edge.child === undefined ? end : stateOf(edge.child));
      }
      const key = triples.join(',');
      let id = shared.get(key);
      if (id === undefined) shared.set(key, (id = this.addBytes(triples)));
      return id;
    };
    return { start: stateOf(root), end };
  }

  /** Flattens the states into typed arrays, bypassing EMPTY states (pure pass-throughs). */
  freeze(start: number, slotCount: number): Nfa {
    const count = this.kinds.length;
    const resolve = (id: number): number => {
      let current = id;
      for (let hops = 0; this.kinds[current] === STATE_EMPTY; hops++) {
        // A chain of EMPTY states cannot loop: every loop of the compiler goes through a split.
        if (hops > count) throw new Error('regex NFA: cycle of empty states');
        current = this.nexts[current];
      }
      return current;
    };
    const kind = Uint8Array.from(this.kinds);
    const a = new Int32Array(count);
    const b = new Int32Array(count);
    const ranges: number[] = [];
    const targets: number[] = [];
    let looks = 0;
    for (let id = 0; id < count; id++) {
      switch (this.kinds[id]) {
        case STATE_BYTES: {
          const triples = this.byteRanges[id]!;
          a[id] = ranges.length;
          b[id] = triples.length / 3;
          for (let i = 0; i < triples.length; i += 3) ranges.push(triples[i], triples[i + 1], resolve(triples[i + 2]));
          break;
        }
        case STATE_SPLIT: {
          const list = this.splitTargets[id]!.map(resolve);
          if (this.lazySplits.has(id)) list.reverse();
          a[id] = targets.length;
          b[id] = list.length;
          for (const target of list) targets.push(target);
          break;
        }
        case STATE_LOOK:
          looks |= 1 << this.args[id];
          a[id] = resolve(this.nexts[id]);
          b[id] = this.args[id];
          break;
        case STATE_CAPTURE:
          a[id] = resolve(this.nexts[id]);
          b[id] = this.args[id];
          break;
      }
    }
    return {
      kind,
      a,
      b,
      ranges: Int32Array.from(ranges),
      targets: Int32Array.from(targets),
      start: resolve(start),
      stateCount: count,
      slotCount,
      looks,
    };
  }
}
