// Zero-width assertions. Each one is a function of the two neighbours of a position, so the
// automata can evaluate it from a small "context" of each neighbour: the text's edge, `\n`, `\r`,
// an ASCII word byte, or another byte. Unicode word boundaries need the neighbouring characters
// decoded instead; only the Pike VM evaluates them exactly (`lookHoldsAt`), the DFA treats them as
// ASCII ones and gives up at the first non-ASCII byte.
import { isUnicodeWordChar } from './unicode.ts';
import { decodeBackward, decodeForward } from './utf8.ts';

export const LOOK_START = 0; // \A, ^
export const LOOK_END = 1; // \z, $
export const LOOK_START_LF = 2; // (?m)^
export const LOOK_END_LF = 3; // (?m)$
export const LOOK_START_CRLF = 4; // (?mR)^
export const LOOK_END_CRLF = 5; // (?mR)$
export const LOOK_WORD_ASCII = 6; // \b
export const LOOK_NOT_WORD_ASCII = 7; // \B
export const LOOK_WORD_START_ASCII = 8; // \b{start}, \<
export const LOOK_WORD_END_ASCII = 9; // \b{end}, \>
export const LOOK_WORD_START_HALF_ASCII = 10; // \b{start-half}
export const LOOK_WORD_END_HALF_ASCII = 11; // \b{end-half}
/** The Unicode variants (under `u`) are the ASCII ones + this offset. */
export const LOOK_UNICODE_OFFSET = 6;
export const LOOK_COUNT = 18;

export function isUnicodeWordLook(look: number): boolean {
  return look >= LOOK_WORD_ASCII + LOOK_UNICODE_OFFSET;
}

/** What an assertion can see of one neighbour of a position. */
export const CONTEXT_EDGE = 0;
const CONTEXT_LF = 1;
const CONTEXT_CR = 2;
const CONTEXT_WORD = 3;
const CONTEXT_OTHER = 4;
export const CONTEXT_COUNT = 5;

function isAsciiWordByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f;
}

export const BYTE_CONTEXT: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    table[b] = b === 0x0a ? CONTEXT_LF : b === 0x0d ? CONTEXT_CR : isAsciiWordByte(b) ? CONTEXT_WORD : CONTEXT_OTHER;
  }
  return table;
})();

/** Whether `look` holds between neighbours `before` and `after` (contexts); Unicode kinds as ASCII. */
export function lookHolds(look: number, before: number, after: number): boolean {
  return LOOK_TABLE[(look * CONTEXT_COUNT + before) * CONTEXT_COUNT + after] === 1;
}

const LOOK_TABLE: Uint8Array = (() => {
  const table = new Uint8Array(LOOK_COUNT * CONTEXT_COUNT * CONTEXT_COUNT);
  for (let look = 0; look < LOOK_COUNT; look++) {
    for (let before = 0; before < CONTEXT_COUNT; before++) {
      for (let after = 0; after < CONTEXT_COUNT; after++) {
        table[(look * CONTEXT_COUNT + before) * CONTEXT_COUNT + after] = evaluate(look, before, after) ? 1 : 0;
      }
    }
  }
  return table;
})();

function evaluate(look: number, before: number, after: number): boolean {
  const wordBefore = before === CONTEXT_WORD;
  const wordAfter = after === CONTEXT_WORD;
  switch (look >= LOOK_WORD_ASCII + LOOK_UNICODE_OFFSET ? look - LOOK_UNICODE_OFFSET : look) {
    case LOOK_START:
      return before === CONTEXT_EDGE;
    case LOOK_END:
      return after === CONTEXT_EDGE;
    case LOOK_START_LF:
      return before === CONTEXT_EDGE || before === CONTEXT_LF;
    case LOOK_END_LF:
      return after === CONTEXT_EDGE || after === CONTEXT_LF;
    case LOOK_START_CRLF:
      // A line starts after \n, or after a \r that is not the first half of \r\n.
      return before === CONTEXT_EDGE || before === CONTEXT_LF || (before === CONTEXT_CR && after !== CONTEXT_LF);
    case LOOK_END_CRLF:
      return after === CONTEXT_EDGE || after === CONTEXT_CR || (after === CONTEXT_LF && before !== CONTEXT_CR);
    case LOOK_WORD_ASCII:
      return wordBefore !== wordAfter;
    case LOOK_NOT_WORD_ASCII:
      return wordBefore === wordAfter;
    case LOOK_WORD_START_ASCII:
      return !wordBefore && wordAfter;
    case LOOK_WORD_END_ASCII:
      return wordBefore && !wordAfter;
    case LOOK_WORD_START_HALF_ASCII:
      return !wordBefore;
    case LOOK_WORD_END_HALF_ASCII:
      return !wordAfter;
  }
  throw new Error(`unknown look ${look}`);
}

/** Whether `look` holds at position `at` of a byte string, Unicode word boundaries included. */
export function lookHoldsAt(look: number, haystack: string, at: number): boolean {
  if (!isUnicodeWordLook(look)) {
    const before = at === 0 ? CONTEXT_EDGE : BYTE_CONTEXT[haystack.charCodeAt(at - 1) & 0xff];
    const after = at === haystack.length ? CONTEXT_EDGE : BYTE_CONTEXT[haystack.charCodeAt(at) & 0xff];
    return lookHolds(look, before, after);
  }
  // As Rust: a neighbour that is not valid UTF-8 is not a word character, and the assertions that
  // can hold between two non-word characters (\B and the halves) do not hold next to invalid UTF-8,
  // so that they never split a character.
  const cpBefore = at === 0 ? -1 : decodeBackward(haystack, at);
  const cpAfter = at === haystack.length ? -1 : decodeForward(haystack, at);
  const wordBefore = cpBefore >= 0 && isUnicodeWordChar(cpBefore);
  const wordAfter = cpAfter >= 0 && isUnicodeWordChar(cpAfter);
  const invalidBefore = at > 0 && cpBefore < 0;
  const invalidAfter = at < haystack.length && cpAfter < 0;
  switch (look - LOOK_UNICODE_OFFSET) {
    case LOOK_WORD_ASCII:
      return wordBefore !== wordAfter;
    case LOOK_NOT_WORD_ASCII:
      return !invalidBefore && !invalidAfter && wordBefore === wordAfter;
    case LOOK_WORD_START_ASCII:
      return !wordBefore && wordAfter;
    case LOOK_WORD_END_ASCII:
      return wordBefore && !wordAfter;
    case LOOK_WORD_START_HALF_ASCII:
      return !invalidBefore && !wordBefore;
    default:
      return !invalidAfter && !wordAfter;
  }
}
