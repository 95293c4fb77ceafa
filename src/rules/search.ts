// Substring search for `contains` (SPEC.md 7.3), where a real rule set spends most of its time.
//
// A candidate position must match the needle's first byte and a second byte at an offset chosen
// at random per needle; only then is the whole needle compared. The first byte is found with the
// engine's native one-byte scan (memchr-like, wide), and the random second byte means an attacker
// who does not know the offset cannot build a haystack that passes both checks at most positions:
// against "/wp-admin/" a path of 10,000 `/` costs one byte compare per `/`, not a full compare.
// Haystacks shorter than a few needles skip the native call and compare in a plain loop.
import type { Bytes } from './values.ts';

export type Searcher = (haystack: Bytes) => boolean;

/** Below this many bytes a plain loop beats the overhead of native `indexOf` calls. */
const SHORT_HAYSTACK = 32;

/**
 * After this many first-byte candidates in a row that fail the second-byte check, the scan
 * switches to one loop that tests both bytes per position: the first byte is evidently common
 * in this haystack, so the native scan would stop at almost every byte.
 */
const DENSE_CANDIDATES = 8;

export function substringSearcher(needle: Bytes, random: () => number = Math.random): Searcher {
  const length = needle.length;
  if (length === 0) return () => true;
  if (length === 1) return (haystack) => haystack.indexOf(needle) !== -1;
  const first = needle.charCodeAt(0);
  const firstChar = needle[0];
  const offset = 1 + Math.floor(random() * (length - 1));
  const second = needle.charCodeAt(offset);

  const scanBoth = (haystack: Bytes, from: number, last: number): boolean => {
    for (let i = from; i <= last; i++) {
      if (haystack.charCodeAt(i) === first && haystack.charCodeAt(i + offset) === second && haystack.startsWith(needle, i)) {
        return true;
      }
    }
    return false;
  };

  return (haystack) => {
    const last = haystack.length - length;
    if (last < 0) return false;
    if (haystack.length < SHORT_HAYSTACK) return scanBoth(haystack, 0, last);
    let misses = 0;
    let i = haystack.indexOf(firstChar);
    while (i !== -1 && i <= last) {
      if (haystack.charCodeAt(i + offset) === second) {
        if (haystack.startsWith(needle, i)) return true;
      } else if (++misses === DENSE_CANDIDATES) {
        return scanBoth(haystack, i + 1, last);
      }
      i = haystack.indexOf(firstChar, i + 1);
    }
    return false;
  };
}
