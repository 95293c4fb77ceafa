// A lazy DFA answering "is there a match?": subset construction done on demand, one transition
// at a time, with the states cached in a bounded table (flushed when full).
//
// A DFA state is a set of NFA states *before* their epsilon closure (the "kernel") plus the
// context (see looks.ts) of the byte just consumed. The closure is taken when the next byte is
// known, so every assertion can be decided from the two neighbours of the position: this is how
// `^ $ \b \B \A \z` and the multi-line forms work without a Pike VM. A match is therefore seen one
// byte late (or at the end of the haystack), which is all `test` needs.
//
// Unanchored searches add the NFA's start state to every closure instead of prefixing `.*?`; the
// state "nothing in progress" (empty kernel) is then the restart point where a literal prefilter
// (`indexOf`) may skip ahead. A reverse DFA runs the reverse NFA from the end of the haystack,
// for patterns that must match at the end.
//
// The DFA gives up (the caller then uses the Pike VM) on a non-ASCII byte when the pattern has
// Unicode word boundaries, and when the cache thrashes: repeated flushes with few bytes scanned
// per state created.
import {
  BYTE_CONTEXT,
  CONTEXT_COUNT,
  CONTEXT_EDGE,
  isUnicodeWordLook,
  LOOK_COUNT,
  LOOK_END,
  LOOK_END_CRLF,
  LOOK_END_LF,
  LOOK_START,
  LOOK_START_CRLF,
  LOOK_START_LF,
  lookHolds,
} from './looks.ts';
import { type Nfa, STATE_BYTES, STATE_CAPTURE, STATE_LOOK, STATE_MATCH, STATE_SPLIT } from './nfa.ts';

const UNKNOWN = -1;
const DEAD = -2;
const MATCH = -3;
/** The DFA cannot answer: a byte it must not handle, or the cache thrashes. */
const GIVE_UP = -4;

/** Cache budget of one DFA, in bytes (Rust's lazy DFA default is 2 MiB too). */
const CACHE_CAPACITY = 2 * 1024 * 1024;
/** Per-state bookkeeping beyond the transition row and the kernel (map entry, key string, arrays). */
const STATE_OVERHEAD = 96;
/** Give up after this many flushes that each came less than 10 bytes per state after the previous one. */
const MAX_BAD_FLUSHES = 3;

export interface DfaOptions {
  /** Runs the (reverse) NFA from the end of the haystack towards its start. */
  readonly reverse: boolean;
  /** Matches may only start where the search starts (no restart at later positions). */
  readonly anchored: boolean;
  /** Keep "nothing in progress" states at known offsets, for `searchForward`'s prefix skipping. */
  readonly restartStates: boolean;
}

export class LazyDfa {
  private readonly nfa: Nfa;
  private readonly reverse: boolean;
  private readonly anchored: boolean;
  private readonly restartStates: boolean;
  private readonly quitNonAscii: boolean;
  /** Byte → equivalence class: bytes no transition and no assertion in use can tell apart. */
  private readonly classOf: Uint8Array;
  private readonly stride: number;
  /** Context of the consumed neighbour → the smallest context no assertion in use tells apart from it. */
  private readonly reduceContext: Uint8Array;

  /** Row `state offset + class` = next state offset, or one of the negative markers. */
  private trans: Int32Array;
  private kernels: Int32Array[] = [];
  private contexts: number[] = [];
  /** 0 = not computed, 1 = no match at the end of the haystack, 2 = match. */
  private endMatches: number[] = [];
  private stateIndex = new Map<string, number>();
  private memory = 0;
  private flushCount = 0;
  /** The states `reset` makes (restart or initial states), which a flush keeps. */
  private reservedCount = 0;
  /** Offsets below this are restart states (0 when there are none). */
  private restartLimit = 0;
  /** Context of the byte before a position → the restart state for that position. */
  private readonly restartFor = new Int32Array(CONTEXT_COUNT);
  private initialOffset = 0;

  // Scratch space for closures: `seen[s] === stamp` marks NFA state s.
  private readonly seen: Uint32Array;
  private stamp = 0;
  private readonly stack: Int32Array;
  private readonly found: Int32Array;
  private foundCount = 0;

  // Thrash detection, per search.
  private progress = 0;
  private lastFlushProgress = 0;
  private badFlushes = 0;

  constructor(nfa: Nfa, options: DfaOptions) {
    this.nfa = nfa;
    this.reverse = options.reverse;
    this.anchored = options.anchored;
    this.restartStates = options.restartStates && !options.anchored;
    const looks: number[] = [];
    for (let look = 0; look < LOOK_COUNT; look++) if (nfa.looks & (1 << look)) looks.push(look);
    this.quitNonAscii = looks.some(isUnicodeWordLook);
    this.reduceContext = reduceContexts(looks, this.reverse);
    [this.classOf, this.stride] = byteClasses(nfa, this.quitNonAscii);
    this.seen = new Uint32Array(nfa.stateCount);
    this.stack = new Int32Array(nfa.stateCount);
    this.found = new Int32Array(nfa.stateCount);
    this.trans = new Int32Array(16 * this.stride).fill(UNKNOWN);
    this.reset();
  }

  /**
   * Is there a match in `haystack`? With a prefix (every match starts with `prefix`, found with
   * indexOf in `prefixText`, which is the haystack or its lower case), the search skips ahead to
   * the prefix's next occurrence whenever nothing is in progress.
   */
  searchForward(haystack: string, prefixText?: string, prefix?: string): boolean | undefined {
    this.beginSearch();
    const n = haystack.length;
    let i = 0;
    let s = this.initialOffset;
    if (prefix !== undefined && this.restartStates) {
      i = prefixText!.indexOf(prefix);
      if (i < 0) return false;
      if (i > 0) {
        const before = haystack.charCodeAt(i - 1) & 0xff;
        // Skipped bytes were never looked at: a Unicode word boundary may depend on this one.
        if (this.quitNonAscii && before >= 0x80) return undefined;
        s = this.restartFor[BYTE_CONTEXT[before]];
      }
    }
    const classOf = this.classOf;
    const restartLimit = this.restartLimit;
    let trans = this.trans;
    for (;;) {
      // The hot loop: ordinary transitions only.
      let t = 0;
      while (i < n) {
        t = trans[s + classOf[haystack.charCodeAt(i) & 0xff]];
        if (t < restartLimit) break;
        s = t;
        i++;
      }
      if (i >= n) return this.matchesAtEnd(s);
      if (t === UNKNOWN) {
        this.progress = i;
        t = this.computeTransition(s, haystack.charCodeAt(i) & 0xff);
        trans = this.trans;
      }
      if (t < 0) return t === MATCH ? true : t === DEAD ? false : undefined;
      i++;
      if (t < restartLimit) {
        // Nothing in progress: no match can start before the next occurrence of the prefix.
        i = prefixText!.indexOf(prefix!, i);
        if (i < 0) return false;
        const before = haystack.charCodeAt(i - 1) & 0xff;
        if (this.quitNonAscii && before >= 0x80) return undefined;
        t = this.restartFor[BYTE_CONTEXT[before]];
      }
      s = t;
    }
  }

  /** Is there a match ending at the end of `haystack`? (For a reverse, anchored DFA.) */
  searchReverse(haystack: string): boolean | undefined {
    this.beginSearch();
    const n = haystack.length;
    const classOf = this.classOf;
    let trans = this.trans;
    let s = this.initialOffset;
    let i = n;
    for (;;) {
      let t = 0;
      while (i > 0) {
        t = trans[s + classOf[haystack.charCodeAt(i - 1) & 0xff]];
        if (t < 0) break;
        s = t;
        i--;
      }
      if (i <= 0) return this.matchesAtEnd(s);
      if (t === UNKNOWN) {
        this.progress = n - i;
        t = this.computeTransition(s, haystack.charCodeAt(i - 1) & 0xff);
        trans = this.trans;
      }
      if (t < 0) return t === MATCH ? true : t === DEAD ? false : undefined;
      s = t;
      i--;
    }
  }

  private beginSearch(): void {
    this.progress = 0;
    this.lastFlushProgress = 0;
    this.badFlushes = 0;
  }

  private computeTransition(from: number, byte: number): number {
    const cell = from + this.classOf[byte];
    if (this.quitNonAscii && byte >= 0x80) return (this.trans[cell] = GIVE_UP);
    const index = from / this.stride;
    const context = this.contexts[index];
    const byteContext = BYTE_CONTEXT[byte];
    const matched = this.reverse
      ? this.closure(this.kernels[index], byteContext, context)
      : this.closure(this.kernels[index], context, byteContext);
    if (matched) return (this.trans[cell] = MATCH);

    const { a, b, ranges } = this.nfa;
    const seen = this.seen;
    const stamp = this.nextStamp();
    const next = this.stack;
    let count = 0;
    for (let f = 0; f < this.foundCount; f++) {
      const state = this.found[f];
      for (let r = a[state], end = r + 3 * b[state]; r < end; r += 3) {
        if (ranges[r] <= byte && byte <= ranges[r + 1]) {
          const target = ranges[r + 2];
          if (seen[target] !== stamp) {
            seen[target] = stamp;
            next[count++] = target;
          }
        }
      }
    }
    if (count === 0 && this.anchored) return (this.trans[cell] = DEAD);
    const kernel = next.slice(0, count).sort();
    const flushesBefore = this.flushCount;
    const to = this.stateFor(kernel, this.reduceContext[byteContext]);
    // After a flush `from` no longer exists, so there is no row to record the transition in; and
    // giving up is a verdict on this search only.
    if (this.flushCount === flushesBefore && to !== GIVE_UP) this.trans[cell] = to;
    return to;
  }

  /**
   * Fills `found` with the BYTES states reachable from `kernel` (and the start state when
   * unanchored) through epsilon edges and satisfied assertions; true if MATCH is reachable.
   */
  private closure(kernel: Int32Array, before: number, after: number): boolean {
    const { kind, a, b, targets } = this.nfa;
    const seen = this.seen;
    const stack = this.stack;
    const stamp = this.nextStamp();
    let top = 0;
    let found = 0;
    if (!this.anchored) {
      seen[this.nfa.start] = stamp;
      stack[top++] = this.nfa.start;
    }
    for (let k = 0; k < kernel.length; k++) {
      if (seen[kernel[k]] !== stamp) {
        seen[kernel[k]] = stamp;
        stack[top++] = kernel[k];
      }
    }
    while (top > 0) {
      const s = stack[--top];
      let next = -1;
      switch (kind[s]) {
        case STATE_BYTES:
          this.found[found++] = s;
          break;
        case STATE_MATCH:
          return true;
        case STATE_SPLIT:
          for (let t = a[s], end = t + b[s]; t < end; t++) {
            if (seen[targets[t]] !== stamp) {
              seen[targets[t]] = stamp;
              stack[top++] = targets[t];
            }
          }
          break;
        case STATE_LOOK:
          if (lookHolds(b[s], before, after)) next = a[s];
          break;
        case STATE_CAPTURE:
          next = a[s];
          break;
      }
      if (next >= 0 && seen[next] !== stamp) {
        seen[next] = stamp;
        stack[top++] = next;
      }
    }
    this.foundCount = found;
    return false;
  }

  private matchesAtEnd(offset: number): boolean {
    const index = offset / this.stride;
    if (this.endMatches[index] === 0) {
      const context = this.contexts[index];
      const matched = this.reverse
        ? this.closure(this.kernels[index], CONTEXT_EDGE, context)
        : this.closure(this.kernels[index], context, CONTEXT_EDGE);
      this.endMatches[index] = matched ? 2 : 1;
    }
    return this.endMatches[index] === 2;
  }

  private nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  // ---- the state cache

  /** The offset of the state (kernel, context), made if needed; GIVE_UP if the cache thrashes. */
  private stateFor(kernel: Int32Array, context: number): number {
    const key = `${context}:${kernel.join(',')}`;
    const known = this.stateIndex.get(key);
    if (known !== undefined) return known * this.stride;
    const cost = this.stride * 4 + kernel.length * 4 + key.length * 2 + STATE_OVERHEAD;
    if (this.memory + cost > CACHE_CAPACITY && this.kernels.length > this.reservedCount) {
      if (this.progress - this.lastFlushProgress < 10 * this.kernels.length && ++this.badFlushes >= MAX_BAD_FLUSHES) {
        return GIVE_UP;
      }
      this.lastFlushProgress = this.progress;
      this.flushCount++;
      this.reset();
      // The state may be one of the fixed ones `reset` has just made again.
      const remade = this.stateIndex.get(key);
      if (remade !== undefined) return remade * this.stride;
    }
    return this.addState(key, kernel, context, cost);
  }

  private addState(key: string, kernel: Int32Array, context: number, cost: number): number {
    const index = this.kernels.length;
    if ((index + 1) * this.stride > this.trans.length) {
      const grown = new Int32Array(this.trans.length * 2).fill(UNKNOWN);
      grown.set(this.trans);
      this.trans = grown;
    }
    this.kernels.push(kernel);
    this.contexts.push(context);
    this.endMatches.push(0);
    this.stateIndex.set(key, index);
    this.memory += cost;
    return index * this.stride;
  }

  /** Empties the cache, then makes the states searches start from, at fixed offsets. */
  private reset(): void {
    this.kernels = [];
    this.contexts = [];
    this.endMatches = [];
    this.stateIndex = new Map();
    this.memory = 0;
    this.trans.fill(UNKNOWN);
    const empty = new Int32Array(0);
    if (this.restartStates) {
      for (let context = 0; context < CONTEXT_COUNT; context++) {
        this.restartFor[context] = this.stateFor(empty, this.reduceContext[context]);
      }
      this.restartLimit = this.kernels.length * this.stride;
      this.initialOffset = this.restartFor[CONTEXT_EDGE];
    } else {
      const initial = this.anchored ? Int32Array.of(this.nfa.start) : empty;
      this.initialOffset = this.stateFor(initial, this.reduceContext[CONTEXT_EDGE]);
    }
    this.reservedCount = this.kernels.length;
  }
}

/**
 * For each context of the consumed neighbour, the smallest context that behaves the same for
 * every assertion in use (whatever the other neighbour): states differing only there are merged.
 */
function reduceContexts(looks: readonly number[], reverse: boolean): Uint8Array {
  const holds = (look: number, consumed: number, other: number) =>
    reverse ? lookHolds(look, other, consumed) : lookHolds(look, consumed, other);
  const reduced = new Uint8Array(CONTEXT_COUNT);
  for (let x = 0; x < CONTEXT_COUNT; x++) {
    reduced[x] = x;
    for (let y = 0; y < x; y++) {
      let same = true;
      for (const look of looks) {
        for (let other = 0; other < CONTEXT_COUNT; other++) {
          if (holds(look, x, other) !== holds(look, y, other)) same = false;
        }
      }
      if (same) {
        reduced[x] = reduced[y];
        break;
      }
    }
  }
  return reduced;
}

/** Byte classes: bytes in one class have the same transitions and the same relevant context. */
function byteClasses(nfa: Nfa, quitNonAscii: boolean): [Uint8Array, number] {
  const boundary = new Uint8Array(257);
  const mark = (lo: number, hi: number) => {
    boundary[lo] = 1;
    boundary[hi + 1] = 1;
  };
  for (let s = 0; s < nfa.stateCount; s++) {
    if (nfa.kind[s] !== STATE_BYTES) continue;
    for (let r = nfa.a[s], end = r + 3 * nfa.b[s]; r < end; r += 3) mark(nfa.ranges[r], nfa.ranges[r + 1]);
  }
  // Bytes that assertions in use tell apart (on either side of a position) must not share a class.
  const lineLooks = (1 << LOOK_START_LF) | (1 << LOOK_END_LF) | (1 << LOOK_START_CRLF) | (1 << LOOK_END_CRLF);
  if (nfa.looks & lineLooks) {
    mark(0x0a, 0x0a);
    mark(0x0d, 0x0d);
  }
  if (nfa.looks & ~lineLooks & ~((1 << LOOK_START) | (1 << LOOK_END))) {
    for (const [lo, hi] of [
      [0x30, 0x39],
      [0x41, 0x5a],
      [0x5f, 0x5f],
      [0x61, 0x7a],
    ]) {
      mark(lo, hi);
    }
  }
  if (quitNonAscii) mark(0x80, 0xff);
  const classOf = new Uint8Array(256);
  let current = 0;
  for (let byte = 1; byte < 256; byte++) {
    if (boundary[byte]) current++;
    classOf[byte] = current;
  }
  return [classOf, current + 1];
}
