// Sets of integers (bytes or code points) as sorted, disjoint, non-adjacent inclusive ranges,
// flattened: [lo0, hi0, lo1, hi1, …]. Every function returns a new canonical set.

export type Ranges = readonly number[];

/** Sorts and merges arbitrary (possibly overlapping) ranges. */
export function canonicalize(ranges: Ranges): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last] + 1) {
      if (hi > out[last]) out[last] = hi;
    } else {
      out.push(lo, hi);
    }
  }
  return out;
}

export function union(a: Ranges, b: Ranges): number[] {
  return canonicalize([...a, ...b]);
}

export function intersect(a: Ranges, b: Ranges): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (lo <= hi) out.push(lo, hi);
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return out;
}

/** The complement within [0, max]. */
export function negate(a: Ranges, max: number): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] > next) out.push(next, a[i] - 1);
    next = a[i + 1] + 1;
  }
  if (next <= max) out.push(next, max);
  return out;
}

export function difference(a: Ranges, b: Ranges): number[] {
  const max = Math.max(a.length ? a[a.length - 1] : 0, b.length ? b[b.length - 1] : 0);
  return intersect(a, negate(b, max));
}

export function symmetricDifference(a: Ranges, b: Ranges): number[] {
  return difference(union(a, b), intersect(a, b));
}

export function contains(ranges: Ranges, x: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (x < ranges[2 * mid]) hi = mid - 1;
    else if (x > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}
