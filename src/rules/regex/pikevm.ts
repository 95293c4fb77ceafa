// The Pike VM: a breadth-first simulation of the NFA with one thread per NFA state, each carrying
// its capture slots. Threads are kept in priority order and a match discards every thread of
// lower priority, which gives Perl's and Rust's leftmost-first match and captures in
// O(haystack × NFA) time. It also evaluates Unicode word boundaries exactly, so it is the
// fallback whenever the lazy DFA gives up.
import { lookHoldsAt } from './looks.ts';
import { type Nfa, STATE_BYTES, STATE_CAPTURE, STATE_LOOK, STATE_MATCH, STATE_SPLIT } from './nfa.ts';

/** An ordered set of NFA states, with capture slots for the states that consume or match. */
class ThreadList {
  readonly dense: Int32Array;
  private readonly sparse: Int32Array;
  size = 0;
  private readonly slotCount: number;
  slots: Int32Array;

  constructor(stateCount: number, slotCount: number) {
    this.dense = new Int32Array(stateCount);
    this.sparse = new Int32Array(stateCount);
    this.slotCount = slotCount;
    // Grows on demand: the worst case (every state live at once) is rare and can be large.
    this.slots = new Int32Array(Math.min(stateCount, 64) * slotCount);
  }

  has(state: number): boolean {
    const i = this.sparse[state];
    return i < this.size && this.dense[i] === state;
  }

  /** Adds `state` (not present); returns its position. */
  insert(state: number): number {
    const i = this.size++;
    this.dense[i] = state;
    this.sparse[state] = i;
    return i;
  }

  storeSlots(position: number, slots: Int32Array): void {
    const offset = position * this.slotCount;
    if (offset + this.slotCount > this.slots.length) {
      const grown = new Int32Array(Math.max(this.slots.length * 2, offset + this.slotCount));
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots.set(slots, offset);
  }
}

export class PikeVm {
  private readonly nfa: Nfa;
  /** 0 when only "is there a match" is wanted: captures are then not tracked at all. */
  private readonly slotCount: number;
  private current: ThreadList;
  private next: ThreadList;
  /** Pending work of an epsilon closure: a state to explore, or (negative) a slot to restore. */
  private stack: Int32Array;
  private readonly scratch: Int32Array;

  constructor(nfa: Nfa, trackCaptures: boolean) {
    this.nfa = nfa;
    this.slotCount = trackCaptures ? nfa.slotCount : 0;
    this.current = new ThreadList(nfa.stateCount, this.slotCount);
    this.next = new ThreadList(nfa.stateCount, this.slotCount);
    this.stack = new Int32Array(64);
    this.scratch = new Int32Array(this.slotCount);
  }

  /**
   * The leftmost-first match starting at `from` or later (only at `from` when `anchored`): its
   * capture slots (group 0 first; -1 where a group did not participate), or null. Without
   * capture tracking, an empty array stands for "there is a match".
   */
  search(haystack: string, from: number, anchored: boolean): Int32Array | null {
    const { kind, a, b, ranges } = this.nfa;
    const n = haystack.length;
    const slotCount = this.slotCount;
    let matched: Int32Array | null = null;
    this.current.size = 0;
    for (let at = from; at <= n; at++) {
      if (this.current.size === 0 && (matched !== null || (anchored && at > from))) break;
      if (matched === null && (!anchored || at === from)) {
        this.scratch.fill(-1);
        this.addClosure(this.current, this.nfa.start, this.scratch, haystack, at);
      }
      const current = this.current;
      const next = this.next;
      next.size = 0;
      const byte = at < n ? haystack.charCodeAt(at) & 0xff : -1;
      for (let t = 0; t < current.size; t++) {
        const state = current.dense[t];
        if (kind[state] === STATE_MATCH) {
          if (slotCount === 0) return this.scratch;
          matched = current.slots.slice(t * slotCount, (t + 1) * slotCount);
          // Every thread after this one has lower priority than the match found.
          break;
        }
        if (kind[state] !== STATE_BYTES || byte < 0) continue;
        for (let r = a[state], end = r + 3 * b[state]; r < end; r += 3) {
          if (ranges[r] <= byte && byte <= ranges[r + 1]) {
            if (slotCount > 0) {
              // A copy by hand: subarray() would allocate a view per thread and byte.
              const slots = current.slots;
              const scratch = this.scratch;
              for (let k = 0, from = t * slotCount; k < slotCount; k++) scratch[k] = slots[from + k];
            }
            this.addClosure(next, ranges[r + 2], this.scratch, haystack, at + 1);
            break;
          }
        }
      }
      this.current = next;
      this.next = current;
    }
    return matched;
  }

  /**
   * Adds `start` and everything reachable from it through epsilon edges to `list`, depth-first in
   * priority order, recording positions in `slots` on the way (restored before returning).
   */
  private addClosure(list: ThreadList, start: number, slots: Int32Array, haystack: string, at: number): void {
    const { kind, a, b, targets } = this.nfa;
    let top = 0;
    this.push(top++, start);
    while (top > 0) {
      const item = this.stack[--top];
      if (item < 0) {
        // A restore: the slot index is encoded as -(slot + 1), the saved value was pushed below it.
        slots[-item - 1] = this.stack[--top];
        continue;
      }
      let state = item;
      for (;;) {
        if (list.has(state)) break;
        const position = list.insert(state);
        const stateKind = kind[state];
        if (stateKind === STATE_BYTES || stateKind === STATE_MATCH) {
          if (this.slotCount > 0) list.storeSlots(position, slots);
          break;
        }
        if (stateKind === STATE_SPLIT) {
          const first = a[state];
          // Later alternatives wait on the stack; the first one is followed right away.
          for (let t = first + b[state] - 1; t > first; t--) this.push(top++, targets[t]);
          state = targets[first];
        } else if (stateKind === STATE_LOOK) {
          if (!lookHoldsAt(b[state], haystack, at)) break;
          state = a[state];
        } else if (stateKind === STATE_CAPTURE) {
          const slot = b[state];
          if (slot < this.slotCount) {
            this.push(top++, slots[slot]);
            this.push(top++, -slot - 1);
            slots[slot] = at;
          }
          state = a[state];
        } else {
          break;
        }
      }
    }
  }

  private push(at: number, value: number): void {
    if (at >= this.stack.length) {
      const grown = new Int32Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[at] = value;
  }
}
