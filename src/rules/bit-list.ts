// Sets of bitmap bits stored as (word, mask) pairs: setting them costs one OR per word touched
// instead of one per bit, and the atoms or rules a literal stands for are mostly few words apart.

/** Pairs of (word index, mask): bit b is in pair (b >>> 5, 1 << (b & 31)). */
export type BitList = Int32Array;

export function bitList(bits: Iterable<number>): BitList {
  const masks = new Map<number, number>();
  for (const bit of bits) masks.set(bit >>> 5, (masks.get(bit >>> 5) ?? 0) | (1 << (bit & 31)));
  const list = new Int32Array(2 * masks.size);
  let at = 0;
  for (const [word, mask] of [...masks].sort((a, b) => a[0] - b[0])) {
    list[at++] = word;
    list[at++] = mask;
  }
  return list;
}

/** Sets `list`'s bits in `bitmap`, whose word 0 is at `offset`. */
export function setBits(bitmap: Int32Array, list: BitList, offset: number): void {
  for (let i = 0; i < list.length; i += 2) bitmap[offset + list[i]] |= list[i + 1];
}
