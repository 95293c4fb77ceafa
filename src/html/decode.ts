// Cooking of raw tokenizer values into what the HTML standard's tokenizer would emit:
// CR/LF normalisation, NUL handling and character-reference decoding.
import { NAMED_REFERENCES } from './entities.ts';
import { asciiLower, type TextType } from './tokenizer.ts';

const C1: readonly number[] = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];
const MAX_NAME = 33;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
}

/** CRLF / CR → LF. */
export function normalizeNewlines(s: string): string {
  if (s.indexOf('\r') === -1) return s;
  return s.replace(/\r\n?/g, '\n');
}

function replaceNul(s: string): string {
  return s.indexOf('\0') === -1 ? s : s.replaceAll('\0', '\uFFFD');
}

/** Decodes character references in raw text (inAttribute: the attribute-value legacy rule). */
export function decodeCharRefs(s: string, inAttribute: boolean): string {
  let amp = s.indexOf('&');
  if (amp === -1) return s;
  let out = '';
  let last = 0;
  const len = s.length;
  while (amp !== -1) {
    let i = amp + 1;
    const c = i < len ? s.charCodeAt(i) : -1;
    if (c === 35) { // '#'
      i++;
      let hex = false;
      if (i < len && (s.charCodeAt(i) | 32) === 120) { hex = true; i++; }
      const ds = i;
      let v = 0;
      for (; i < len; i++) {
        const d = s.charCodeAt(i);
        let n: number;
        if (d >= 48 && d <= 57) n = d - 48;
        else if (hex && (d | 32) >= 97 && (d | 32) <= 102) n = (d | 32) - 87;
        else break;
        v = v * (hex ? 16 : 10) + n;
        if (v > 0x10ffff) v = 0x110000;
      }
      if (i > ds) {
        if (i < len && s.charCodeAt(i) === 59) i++;
        if (v === 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) v = 0xfffd;
        else if (v >= 0x80 && v <= 0x9f) v = C1[v - 0x80];
        out += s.slice(last, amp) + String.fromCodePoint(v);
        last = i;
      }
    } else if (c !== -1 && isAlnum(c)) {
      let e = i;
      while (e < len && e - i < MAX_NAME && isAlnum(s.charCodeAt(e))) e++;
      if (e < len && s.charCodeAt(e) === 59) e++;
      let k = e;
      let hit: string | undefined;
      for (; k > i; k--) {
        hit = NAMED_REFERENCES.get(s.slice(i, k));
        if (hit !== undefined) break;
      }
      if (hit !== undefined) {
        const semi = s.charCodeAt(k - 1) === 59;
        const next = k < len ? s.charCodeAt(k) : -1;
        if (!(inAttribute && !semi && (next === 61 || (next !== -1 && isAlnum(next))))) {
          out += s.slice(last, amp) + hit;
          last = k;
        }
      }
    }
    amp = s.indexOf('&', Math.max(amp + 1, last));
  }
  return out + s.slice(last);
}

/** Text as the standard tokenizer emits it (character tokens) for raw text in a given text type. */
export function cookText(raw: string, type: TextType): string {
  const s = normalizeNewlines(raw);
  if (type === 'data') return decodeCharRefs(s, false);
  if (type === 'rcdata') return replaceNul(decodeCharRefs(s, false));
  return replaceNul(s);
}

export function cookAttributeValue(raw: string): string {
  return replaceNul(decodeCharRefs(normalizeNewlines(raw), true));
}

/** Tag / attribute / doctype names: ASCII-lowercased, NUL → U+FFFD. */
export function cookName(raw: string): string {
  return replaceNul(asciiLower(raw));
}

/** Comment data and doctype identifiers. */
export function cookOther(raw: string): string {
  return replaceNul(normalizeNewlines(raw));
}
