// Aho–Corasick over byte strings: finds which of many literals occur in one value in a single
// pass, for the rule-set prefilter. Bytes that occur in no literal share one alphabet class, so
// the transition table stays small (states × distinct literal bytes) and every step is one
// array read.

export class MultiSearch {
  /** Byte → alphabet class (0 = a byte no literal contains). */
  readonly #classOf = new Uint8Array(256);
  readonly #classes: number;
  /**
   * Dense transitions (failure links folded in): next[row + class] is the next state's row
   * (state × classes), bitwise-negated when that state reports literals, so the scan loop tests
   * one sign per byte instead of reading the output table.
   */
  readonly #next: Int32Array;
  /** Literal ids reported at each state (its own and its failure chain's): outputs[outStart[s] .. outStart[s+1]). */
  readonly #outStart: Int32Array;
  readonly #outputs: Int32Array;
  /** markBytes: the scan in which each state last reported (its literals are marked once per scan). */
  readonly #reportedIn: Uint32Array;
  #scan = 0;

  /**
   * `literals[i]` is reported as id i; empty literals are ignored. With `foldAscii`, A–Z and a–z
   * are one class, so lower-case literals are found in either case without lowering the haystack.
   */
  constructor(literals: readonly string[], options: { foldAscii?: boolean } = {}) {
    let classes = 1;
    for (const literal of literals) {
      for (let i = 0; i < literal.length; i++) {
        const byte = literal.charCodeAt(i);
        if (this.#classOf[byte] === 0) this.#classOf[byte] = classes++;
      }
    }
    if (options.foldAscii === true) {
      for (let upper = 0x41; upper <= 0x5a; upper++) {
        const lower = upper + 0x20;
        if (this.#classOf[lower] === 0 && this.#classOf[upper] !== 0) this.#classOf[lower] = classes++;
        this.#classOf[upper] = this.#classOf[lower];
      }
    }
    this.#classes = classes;
    // Trie with sparse children while building.
    const children: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    literals.forEach((literal, id) => {
      if (literal.length === 0) return;
      let state = 0;
      for (let i = 0; i < literal.length; i++) {
        const cls = this.#classOf[literal.charCodeAt(i)];
        let child = children[state].get(cls);
        if (child === undefined) {
          child = children.length;
          children.push(new Map());
          own.push([]);
          children[state].set(cls, child);
        }
        state = child;
      }
      own[state].push(id);
    });
    const states = children.length;
    const next = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const outputs: number[][] = own.map((ids) => [...ids]);
    // Breadth-first: a state's failure target is always shallower, so its row is complete first.
    const queue: number[] = [];
    for (let cls = 0; cls < classes; cls++) {
      const child = children[0].get(cls);
      if (child !== undefined) {
        next[cls] = child;
        queue.push(child);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head];
      outputs[state].push(...outputs[fail[state]]);
      for (let cls = 0; cls < classes; cls++) {
        const child = children[state].get(cls);
        if (child === undefined) {
          next[state * classes + cls] = next[fail[state] * classes + cls];
        } else {
          fail[child] = next[fail[state] * classes + cls];
          next[state * classes + cls] = child;
          queue.push(child);
        }
      }
    }
    this.#next = next.map((state) => (outputs[state].length > 0 ? ~(state * classes) : state * classes));
    this.#outStart = new Int32Array(states + 1);
    let total = 0;
    for (let s = 0; s < states; s++) {
      this.#outStart[s] = total;
      total += outputs[s].length;
    }
    this.#outStart[states] = total;
    this.#outputs = new Int32Array(total);
    this.#reportedIn = new Uint32Array(states);
    for (let s = 0; s < states; s++) this.#outputs.set(outputs[s], this.#outStart[s]);
  }

  /**
   * Sets, in the bitmap `hits`, the bits listed for every literal that occurs in `haystack`.
   * When `verify[id]` is a string, literal `id` counts only where `original` (the haystack before
   * it was lowered, same length) holds that string at the same place: case-sensitive literals
   * share the pass over a lowered haystack with case-insensitive ones.
   */
  mark(haystack: string, original: string, bitsById: readonly Int32Array[], verify: readonly (string | undefined)[], hits: Int32Array): void {
    const classOf = this.#classOf;
    const next = this.#next;
    const classes = this.#classes;
    const outStart = this.#outStart;
    const outputs = this.#outputs;
    let row = 0;
    for (let i = 0; i < haystack.length; i++) {
      const code = haystack.charCodeAt(i);
      row = next[row + (code < 256 ? classOf[code] : 0)];
      if (row >= 0) continue;
      row = ~row;
      const state = row / classes;
      const to = outStart[state + 1];
      for (let k = outStart[state]; k < to; k++) {
        const id = outputs[k];
        const exact = verify[id];
        if (exact !== undefined && !original.startsWith(exact, i + 1 - exact.length)) continue;
        const bits = bitsById[id];
        for (let b = 0; b < bits.length; b++) hits[bits[b] >>> 5] |= 1 << (bits[b] & 31);
      }
    }
  }

  /**
   * Sets, in the bitmap at `offset` of `hits`, the bits listed for every literal that occurs in
   * `haystack`, a byte string. Returns false, having marked only part, at the first code unit above 0xFF: a byte
   * matcher that masks such units to their low byte could still match there, so the caller must
   * then take every literal as present.
   */
  markBytes(haystack: string, bitsById: readonly Int32Array[], hits: Int32Array, offset: number): boolean {
    const classOf = this.#classOf;
    const next = this.#next;
    const classes = this.#classes;
    const outStart = this.#outStart;
    const outputs = this.#outputs;
    const reportedIn = this.#reportedIn;
    if (this.#scan === 0xffffffff) {
      reportedIn.fill(0);
      this.#scan = 0;
    }
    const scan = ++this.#scan;
    let row = 0;
    for (let i = 0; i < haystack.length; i++) {
      const code = haystack.charCodeAt(i);
      if (code > 0xff) return false;
      row = next[row + classOf[code]];
      if (row >= 0) continue;
      row = ~row;
      const state = row / classes;
      // Text repeats short literals ("on", "/"): their bits are set once.
      if (reportedIn[state] === scan) continue;
      reportedIn[state] = scan;
      const to = outStart[state + 1];
      for (let k = outStart[state]; k < to; k++) {
        const bits = bitsById[outputs[k]];
        for (let b = 0; b < bits.length; b++) hits[offset + (bits[b] >>> 5)] |= 1 << (bits[b] & 31);
      }
    }
    return true;
  }

  /** The id of the literal whose first occurrence ends earliest in `haystack`, or -1. */
  firstMatch(haystack: string): number {
    const classOf = this.#classOf;
    const next = this.#next;
    const classes = this.#classes;
    const outStart = this.#outStart;
    for (let i = 0, row = 0; i < haystack.length; i++) {
      const code = haystack.charCodeAt(i);
      row = next[row + (code < 256 ? classOf[code] : 0)];
      if (row < 0) return this.#outputs[outStart[~row / classes]];
    }
    return -1;
  }
}
