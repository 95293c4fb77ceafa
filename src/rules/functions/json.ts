// lookup_json_string / lookup_json_integer (SPEC.md 11.4): a strict RFC 8259 parser over the raw
// bytes of the document that validates all of it but only materialises the value on the key path.
import { INT64_MAX, INT64_MIN, normalizeInt, utf8OfCodePoint, type Bytes, type Int } from '../values.ts';
import { defineFunction, field, literal, literalValue } from './signature.ts';

/** A key step: a member name (Bytes) or an array index. */
export type JsonKey = Bytes | number;
export type JsonTarget = 'string' | 'integer';

/** The string (as UTF-8 bytes) or integer at `keys`; undefined when absent, of another type or the document is invalid. */
export function lookupJson(document: Bytes, keys: readonly JsonKey[], target: JsonTarget): Bytes | Int | undefined {
  // Most bodies are empty or not JSON: answer those without the parser, whose error path throws.
  if (!startsLikeJson(document)) return undefined;
  try {
    return new JsonLookup(document, keys, target).run();
  } catch (error) {
    if (error === INVALID_DOCUMENT) return undefined;
    throw error;
  }
}

/** Whether the first byte after JSON whitespace can start a JSON value. */
function startsLikeJson(document: Bytes): boolean {
  for (let i = 0; i < document.length; i++) {
    const code = document.charCodeAt(i);
    if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) continue;
    return code === OPEN_BRACE || code === OPEN_BRACKET || code === QUOTE || code === MINUS || isDigit(code) || code === 0x74 || code === 0x66 || code === 0x6e;
  }
  return false;
}

const jsonKey = literal(['Bytes', 'Int'], (key) => typeof key === 'string' || (key as Int) >= 0);

const lookupFunction = (name: string, target: JsonTarget) =>
  defineFunction({
    name,
    arguments: [field('Bytes'), jsonKey],
    minArgs: 2,
    variadic: true,
    returns: target === 'string' ? 'Bytes' : 'Int',
    compile(params) {
      // An index beyond 2^53 selects nothing either way.
      const keys = params.slice(1).map((param): JsonKey => {
        const key = literalValue(param) as Bytes | Int;
        return typeof key === 'string' ? key : Number(key);
      });
      return (args) => (args[0] === undefined ? undefined : lookupJson(args[0] as Bytes, keys, target));
    },
  });

export const lookupJsonString = lookupFunction('lookup_json_string', 'string');
export const lookupJsonInteger = lookupFunction('lookup_json_integer', 'integer');

/** Thrown (and caught in lookupJson) to abandon an invalid document. */
const INVALID_DOCUMENT = Symbol('invalid JSON document');

/** Containers nested deeper than this make the document invalid (serde_json's limit); it bounds the recursion. */
const MAX_NESTING = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The meaning of `\c` for the single-character escapes. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const LITERAL_NAMES = ['true', 'false', 'null'];

const isDigit = (code: number): boolean => code >= DIGIT_0 && code <= DIGIT_9;

class JsonLookup {
  readonly #text: Bytes;
  readonly #keys: readonly JsonKey[];
  readonly #target: JsonTarget;
  #position = 0;
  #nesting = 0;

  constructor(text: Bytes, keys: readonly JsonKey[], target: JsonTarget) {
    this.#text = text;
    this.#keys = keys;
    this.#target = target;
  }

  run(): Bytes | Int | undefined {
    this.#skipWhitespace();
    const result = this.#value(0, true);
    this.#skipWhitespace();
    if (this.#position !== this.#text.length) throw INVALID_DOCUMENT;
    return result;
  }

  /**
   * Parses the value at the current position. `onPath`: it is what the first `depth` keys select;
   * then the result is what the remaining keys select in it.
   */
  #value(depth: number, onPath: boolean): Bytes | Int | undefined {
    const isTarget = onPath && depth === this.#keys.length;
    const code = this.#text.charCodeAt(this.#position);
    if (code === OPEN_BRACE) return this.#object(depth, onPath && !isTarget);
    if (code === OPEN_BRACKET) return this.#array(depth, onPath && !isTarget);
    if (code === QUOTE) {
      const decode = isTarget && this.#target === 'string';
      const text = this.#string(decode);
      return decode ? text : undefined;
    }
    if (code === MINUS || isDigit(code)) return this.#number(isTarget && this.#target === 'integer');
    for (const word of LITERAL_NAMES) {
      if (this.#text.startsWith(word, this.#position)) {
        this.#position += word.length;
        return undefined;
      }
    }
    throw INVALID_DOCUMENT;
  }

  #object(depth: number, onPath: boolean): Bytes | Int | undefined {
    this.#enter();
    const key = onPath ? this.#keys[depth] : undefined;
    const wanted = typeof key === 'string' ? key : undefined;
    let result: Bytes | Int | undefined;
    this.#position++;
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#position) === CLOSE_BRACE) {
      this.#position++;
    } else {
      for (;;) {
        if (this.#text.charCodeAt(this.#position) !== QUOTE) throw INVALID_DOCUMENT;
        const name = this.#string(wanted !== undefined);
        const selected = wanted !== undefined && name === wanted;
        this.#skipWhitespace();
        this.#expect(COLON);
        this.#skipWhitespace();
        const value = this.#value(depth + 1, selected);
        // A repeated name: the last occurrence wins, even when it selects nothing.
        if (selected) result = value;
        if (this.#endOfItem(CLOSE_BRACE)) break;
      }
    }
    this.#nesting--;
    return result;
  }

  #array(depth: number, onPath: boolean): Bytes | Int | undefined {
    this.#enter();
    const key = onPath ? this.#keys[depth] : undefined;
    const wanted = typeof key === 'number' ? key : -1;
    let result: Bytes | Int | undefined;
    this.#position++;
    this.#skipWhitespace();
    if (this.#text.charCodeAt(this.#position) === CLOSE_BRACKET) {
      this.#position++;
    } else {
      for (let index = 0; ; index++) {
        const value = this.#value(depth + 1, index === wanted);
        if (index === wanted) result = value;
        if (this.#endOfItem(CLOSE_BRACKET)) break;
      }
    }
    this.#nesting--;
    return result;
  }

  #enter(): void {
    if (++this.#nesting > MAX_NESTING) throw INVALID_DOCUMENT;
  }

  /** After a member or element: true at the closing bracket, false after a comma (both consumed). */
  #endOfItem(close: number): boolean {
    this.#skipWhitespace();
    const code = this.#text.charCodeAt(this.#position++);
    if (code === close) return true;
    if (code !== COMMA) throw INVALID_DOCUMENT;
    this.#skipWhitespace();
    return false;
  }

  /** Validates the string at the current position; returns its UTF-8 bytes when `decode`. */
  #string(decode: boolean): Bytes | undefined {
    const text = this.#text;
    let i = this.#position + 1;
    let decoded = '';
    let copiedUpTo = i;
    for (;;) {
      const code = text.charCodeAt(i);
      if (code === QUOTE) break;
      if (code === BACKSLASH) {
        if (decode) decoded += text.slice(copiedUpTo, i);
        const escape = text[i + 1];
        if (escape === 'u') {
          const [codePoint, length] = this.#unicodeEscape(i);
          if (decode) decoded += utf8OfCodePoint(codePoint);
          i += length;
        } else {
          const replacement = SIMPLE_ESCAPES[escape];
          if (replacement === undefined) throw INVALID_DOCUMENT;
          if (decode) decoded += replacement;
          i += 2;
        }
        copiedUpTo = i;
      } else if (code >= 0x20 && code < 0x80) {
        i++;
      } else {
        // A control character, the end of the text (NaN) or a byte that does not start valid UTF-8.
        const length = utf8SequenceLength(text, i);
        if (length === 0) throw INVALID_DOCUMENT;
        i += length;
      }
    }
    this.#position = i + 1;
    return decode ? decoded + text.slice(copiedUpTo, i) : undefined;
  }

  /**
   * `\uXXXX`, or a surrogate pair `\uXXXX\uXXXX`, at `i`: the code point and the length of the
   * escape. A lone surrogate makes the document invalid (as serde_json decides).
   */
  #unicodeEscape(i: number): [codePoint: number, length: number] {
    const unit = hex4(this.#text, i + 2);
    if (unit < 0xd800 || unit > 0xdfff) return [unit, 6];
    if (unit > 0xdbff || this.#text[i + 6] !== '\\' || this.#text[i + 7] !== 'u') throw INVALID_DOCUMENT;
    const low = hex4(this.#text, i + 8);
    if (low < 0xdc00 || low > 0xdfff) throw INVALID_DOCUMENT;
    return [0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), 12];
  }

  /** Validates a number; returns it when `wanted` and it is an integer token (no fraction or exponent) within i64. */
  #number(wanted: boolean): Int | undefined {
    const text = this.#text;
    const start = this.#position;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    if (text.charCodeAt(i) === DIGIT_0) {
      i++;
    } else if (isDigit(text.charCodeAt(i))) {
      while (isDigit(text.charCodeAt(i))) i++;
    } else {
      throw INVALID_DOCUMENT;
    }
    const integerEnd = i;
    if (text.charCodeAt(i) === DOT) i = digitsAfter(text, i + 1);
    const exponent = text.charCodeAt(i);
    if (exponent === 0x65 || exponent === 0x45) {
      const sign = text.charCodeAt(i + 1);
      i = digitsAfter(text, sign === PLUS || sign === MINUS ? i + 2 : i + 1);
    }
    this.#position = i;
    if (!wanted || i !== integerEnd) return undefined;
    const token = text.slice(start, i);
    const digits = i - start - (text.charCodeAt(start) === MINUS ? 1 : 0);
    // Up to 15 digits is exact as a double; `+ 0` turns -0 into 0.
    if (digits <= 15) return Number(token) + 0;
    // JSON has no leading zeros, so 20 digits are at least 10^19, beyond i64.
    if (digits > 19) return undefined;
    const value = BigInt(token);
    return value < INT64_MIN || value > INT64_MAX ? undefined : normalizeInt(value);
  }

  #expect(code: number): void {
    if (this.#text.charCodeAt(this.#position) !== code) throw INVALID_DOCUMENT;
    this.#position++;
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let i = this.#position;
    for (;;) {
      const code = text.charCodeAt(i);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
      i++;
    }
    this.#position = i;
  }
}

/** The position after one or more digits starting at `i`. */
function digitsAfter(text: Bytes, i: number): number {
  if (!isDigit(text.charCodeAt(i))) throw INVALID_DOCUMENT;
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}

function hex4(text: Bytes, i: number): number {
  const digits = text.slice(i, i + 4);
  if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw INVALID_DOCUMENT;
  return parseInt(digits, 16);
}

/** The length of the well-formed UTF-8 sequence (RFC 3629) starting at `i`, or 0 if there is none. */
function utf8SequenceLength(text: Bytes, i: number): number {
  const lead = text.charCodeAt(i);
  if (lead >= 0xc2 && lead <= 0xdf) return isContinuation(text, i + 1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const second = text.charCodeAt(i + 1);
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
    const min = lead === 0xe0 ? 0xa0 : 0x80;
    const max = lead === 0xed ? 0x9f : 0xbf;
    return second >= min && second <= max && isContinuation(text, i + 2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const second = text.charCodeAt(i + 1);
    // No overlong forms (F0 80..8F) and nothing above U+10FFFF (F4 90..).
    const min = lead === 0xf0 ? 0x90 : 0x80;
    const max = lead === 0xf4 ? 0x8f : 0xbf;
    return second >= min && second <= max && isContinuation(text, i + 2) && isContinuation(text, i + 3) ? 4 : 0;
  }
  return 0;
}

/** Whether the byte at `i` is a UTF-8 continuation byte (false past the end: NaN & 0xc0 is 0). */
function isContinuation(text: Bytes, i: number): boolean {
  return (text.charCodeAt(i) & 0xc0) === 0x80;
}
