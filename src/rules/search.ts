// Substring search for `contains` (SPEC.md 7.3), where a real rule set spends most of its time.
//
// The needle is looked for through a pair of adjacent bytes at an offset chosen at random per
// needle: the engine's native search finds the pair (a wide, vectorised scan of the first byte
// plus a compare of the second), and only then is the whole needle compared. An attacker who does
// not know the offset cannot make most positions pass the pair check: against "/wp-admin/", a
// path of 10,000 `/` holds none of the pairs "wp", "p-", …, and is rejected in one native scan.
// The native pair scan stops at every occurrence of the pair's first byte, so a value dense in
// that byte (10,000 `/` when the pair is "/w") is detected first, by sampling four windows of the
// value, and searched with the engine's whole-needle search instead, which skips ahead by the
// needle's length; so is the rest of a value in which the pair turns out to be common. Either
// way the cost stays linear and within a few times that of a random value of the same length.
// Values shorter than a few cache lines take the plain native search.
import type { Bytes } from './values.ts';

export type Searcher = (haystack: Bytes) => boolean;

/** Below this many bytes the pair scan's setup costs more than it saves. */
const SHORT_HAYSTACK = 64;

/** Pair hits after which the pair is evidently common in this value. */
const DENSE_HITS = 16;

/** Values at least this long are sampled for density first (shorter ones cost little either way). */
const LONG_HAYSTACK = 1024;

/** Sampled bytes per window, and how many of the 4 × WINDOW may be the pair's first byte. */
const WINDOW = 32;
const DENSE_BYTES = 32;

export function substringSearcher(needle: Bytes, random: () => number = Math.random): Searcher {
  const length = needle.length;
  if (length === 0) return () => true;
  if (length <= 2) return (haystack) => haystack.includes(needle);
  const offset = Math.floor(random() * (length - 1));
  const pair = needle.slice(offset, offset + 2);
  const lead = needle.charCodeAt(offset);
  const dense = (haystack: Bytes): boolean => {
    let count = 0;
    const step = (haystack.length - WINDOW) >> 2;
    for (let w = 0; w < 4; w++) {
      const start = w * step;
      for (let i = start; i < start + WINDOW; i++) if (haystack.charCodeAt(i) === lead) count++;
    }
    return count > DENSE_BYTES;
  };
  return (haystack) => {
    if (haystack.length < SHORT_HAYSTACK || (haystack.length >= LONG_HAYSTACK && dense(haystack))) return haystack.includes(needle);
    const last = haystack.length - length + offset;
    let hits = 0;
    let i = haystack.indexOf(pair, offset);
    while (i !== -1 && i <= last) {
      if (haystack.startsWith(needle, i - offset)) return true;
      if (++hits === DENSE_HITS) return haystack.includes(needle, i - offset + 1);
      i = haystack.indexOf(pair, i + 1);
    }
    return false;
  };
}
