// application/json bodies as arguments, named the way Coraza (and, for objects, ModSecurity v3)
// name them, which the Core Rule Set's JSON tests were written against:
//   {"a": {"b": 1}}        → json.a.b = 1
//   {"c": [1, [2]]}        → json.c.0 = 1, json.c.1.0 = 2, json.c.1 = 1, json.c = 2
//   [{"q": "x"}]           → json.0.q = x, json = 1
//   "text"                 → json = text
// - an array's elements are named by index, and the array itself gets its element count once it
//   closes (Coraza's extra argument; an empty array gets none, nor does an empty object);
// - strings are decoded (escapes resolved) to UTF-8 bytes; numbers are their text as sent;
//   true and false are "true" and "false"; null is "";
// - every member is kept in document order, repeated keys included (Coraza keeps the last);
// - a top-level scalar is "json" (ModSecurity v3's name; Coraza would say json.0 and json = 1).
// The grammar is strict JSON (RFC 8259) with valid UTF-8 in strings, as yajl checks it for
// ModSecurity. An empty body is no error (ModSecurity v2 skips it); anything else malformed is,
// with ModSecurity v2's message (yajl's, without its trailing newline). Arguments read before an error are kept, as ModSecurity keeps them.
// The parse is iterative (an explicit stack), so deep nesting cannot exhaust the JS stack.
import { ARGUMENTS_LIMIT_EXCEEDED, type NameValue } from './types.ts';

export interface JsonOptions {
  /** SecRequestBodyJsonDepthLimit: deepest nesting of objects and arrays; 10000 when absent. */
  depthLimit?: number;
  /** How many arguments this call may add (SecArgumentsLimit less those already held); at the
   * limit the parse stops with `error` "SecArgumentsLimit exceeded". Unlimited when absent. */
  argumentsLimit?: number;
}

export interface JsonResult {
  /** Arguments in document order (ARGS_POST), names and values binary strings of UTF-8. */
  args: NameValue[];
  /** REQBODY_ERROR_MSG when the body is not valid JSON, too deep, or over the arguments limit. */
  error: string | undefined;
}

const DEFAULT_DEPTH_LIMIT = 10000;

/** An open object or array: the name its members are named under, and elements so far. */
interface Container {
  name: string;
  isArray: boolean;
  count: number;
}

/** Malformed input, with ModSecurity's REQBODY_ERROR_MSG. */
class JsonError extends Error {}

/** Fails with yajl's message, prefixed as ModSecurity v2 does: "JSON parsing error" while the
 * body is read, "JSON parser error" for what only its end reveals. */
function fail(kind: 'lexical' | 'parse', text: string, atEnd = false): never {
  throw new JsonError(`JSON ${atEnd ? 'parser' : 'parsing'} error: ${kind} error: ${text}`);
}

function failEarlyEnd(): never {
  fail('parse', 'premature EOF', true);
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** A code point as UTF-8 bytes in a binary string. */
function utf8(codePoint: number): string {
  if (codePoint < 0x80) return String.fromCharCode(codePoint);
  if (codePoint < 0x800) return String.fromCharCode(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  if (codePoint < 0x10000) {
    return String.fromCharCode(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
  }
  return String.fromCharCode(0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
}

/** Length of the UTF-8 sequence starting at `at` (lead byte >= 0x80), or 0 if it is invalid. */
function utf8SequenceLength(data: string, at: number): number {
  const lead = data.charCodeAt(at);
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (at + length > data.length) return 0;
  for (let k = 1; k < length; k++) {
    const c = data.charCodeAt(at + k);
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return length;
}

/** The four hex digits of a \u escape at `at`, as a number, or -1. */
function readHex4(data: string, at: number): number {
  if (at + 4 > data.length) return -1;
  let value = 0;
  for (let k = 0; k < 4; k++) {
    const digit = hexValue(data.charCodeAt(at + k));
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

export function parseJson(data: string, options: JsonOptions = {}): JsonResult {
  const result: JsonResult = { args: [], error: undefined };
  if (data.length === 0) return result;
  try {
    readDocument(data, options, result.args);
  } catch (e) {
    if (e instanceof JsonError) result.error = e.message;
    else if (e instanceof LimitReached) result.error = ARGUMENTS_LIMIT_EXCEEDED;
    else throw e;
  }
  return result;
}

/** The arguments limit was reached: the parse stops there. */
class LimitReached extends Error {}

function readDocument(data: string, options: JsonOptions, args: NameValue[]): void {
  const depthLimit = options.depthLimit ?? DEFAULT_DEPTH_LIMIT;
  const argumentsLimit = options.argumentsLimit ?? Infinity;
  const n = data.length;
  const stack: Container[] = [];
  const add = (name: string, value: string): void => {
    if (args.length >= argumentsLimit) throw new LimitReached();
    args.push([name, value]);
  };
  let i = 0;
  const skipWhitespace = (): void => {
    while (i < n && isWhitespace(data.charCodeAt(i))) i++;
  };

  // Reads the string whose opening quote is at i; leaves i after the closing quote.
  const readString = (): string => {
    let out = '';
    let run = ++i;
    for (;;) {
      if (i >= n) failEarlyEnd();
      const c = data.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (i + 1 >= n) failEarlyEnd();
        out += data.slice(run, i);
        switch (data.charCodeAt(i + 1)) {
          case 0x22: out += '"'; break;
          case 0x5c: out += '\\'; break;
          case 0x2f: out += '/'; break;
          case 0x62: out += '\b'; break;
          case 0x66: out += '\f'; break;
          case 0x6e: out += '\n'; break;
          case 0x72: out += '\r'; break;
          case 0x74: out += '\t'; break;
          case 0x75: {
            let code = readHex4(data, i + 2);
            if (code < 0) fail('lexical', "invalid (non-hex) character occurs after '\\u' inside string.");
            i += 4;
            if (code >= 0xd800 && code <= 0xdbff) {
              const low = data.charCodeAt(i + 2) === 0x5c && data.charCodeAt(i + 3) === 0x75 ? readHex4(data, i + 4) : -1;
              if (low >= 0xdc00 && low <= 0xdfff) {
                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                i += 6;
              } else {
                code = 0x3f; // yajl's '?' for a high surrogate without its low half
              }
            }
            out += utf8(code);
            break;
          }
          default:
            fail('lexical', "inside a string, '\\' occurs before a character which it may not.");
        }
        i += 2;
        run = i;
      } else if (c < 0x20) {
        fail('lexical', 'invalid character inside string.');
      } else if (c >= 0x80) {
        const length = utf8SequenceLength(data, i);
        if (length === 0) fail('lexical', 'invalid bytes in UTF8 string.');
        i += length;
      } else {
        i++;
      }
    }
    const value = out + data.slice(run, i);
    i++;
    return value;
  };

  // Reads the number at i as its text.
  const readNumber = (): string => {
    const start = i;
    if (data.charCodeAt(i) === 0x2d) {
      i++;
      if (!isDigit(data.charCodeAt(i))) fail('lexical', 'malformed number, a digit is required after the minus sign.');
    }
    if (data.charCodeAt(i) === 0x30) i++;
    else while (isDigit(data.charCodeAt(i))) i++;
    if (data.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(data.charCodeAt(i))) fail('lexical', 'malformed number, a digit is required after the decimal point.');
      while (isDigit(data.charCodeAt(i))) i++;
    }
    if ((data.charCodeAt(i) | 0x20) === 0x65) {
      i++;
      const sign = data.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(data.charCodeAt(i))) fail('lexical', 'malformed number, a digit is required after the exponent.');
      while (isDigit(data.charCodeAt(i))) i++;
    }
    return data.slice(start, i);
  };

  // Reads the literal `word` at i.
  const readLiteral = (word: string): void => {
    if (data.startsWith(word, i)) i += word.length;
    else fail('lexical', 'invalid string in json text.', i + word.length > n && word.startsWith(data.slice(i)));
  };

  // Reads the value at i named `name`: a scalar becomes an argument; a container is opened and
  // its first member is left for the loop below.
  const readValue = (name: string): void => {
    skipWhitespace();
    if (i >= n) failEarlyEnd();
    const c = data.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= depthLimit) throw new JsonError('JSON parsing error: JSON depth limit exceeded');
      stack.push({ name, isArray: c === 0x5b, count: 0 });
      i++;
      return;
    }
    if (c === 0x22) {
      add(name, readString());
    } else if (c === 0x2d || isDigit(c)) {
      add(name, readNumber());
    } else if (c === 0x74) {
      readLiteral('true');
      add(name, 'true');
    } else if (c === 0x66) {
      readLiteral('false');
      add(name, 'false');
    } else if (c === 0x6e) {
      readLiteral('null');
      add(name, '');
    } else if (c === 0x2c || c === 0x3a || c === 0x5d || c === 0x7d) {
      fail('parse', 'unallowed token at this point in JSON text');
    } else {
      fail('lexical', 'invalid char in json text.');
    }
  };

  // Reads "key": at i in the innermost object and the value after it.
  const readMember = (object: Container): void => {
    skipWhitespace();
    if (i >= n) failEarlyEnd();
    if (data.charCodeAt(i) !== 0x22) fail('parse', 'invalid object key (must be a string)');
    const key = readString();
    skipWhitespace();
    if (i >= n) failEarlyEnd();
    if (data.charCodeAt(i) !== 0x3a) fail('parse', "object key and value must be separated by a colon (':')");
    i++;
    object.count++;
    readValue(object.name + '.' + key);
  };

  const readElement = (array: Container): void => {
    readValue(array.name + '.' + array.count++);
  };

  readValue('json');
  // After each value: open the first member of a container just opened, or close containers
  // and move to the next member.
  let opened = stack.length > 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    skipWhitespace();
    if (i >= n) failEarlyEnd();
    const c = data.charCodeAt(i);
    if (opened) {
      opened = false;
      const depth = stack.length;
      if (c === (top.isArray ? 0x5d : 0x7d)) {
        i++;
        stack.pop();
      } else if (top.isArray) {
        readElement(top);
      } else {
        readMember(top);
      }
      opened = stack.length > depth;
      continue;
    }
    if (c === 0x2c) {
      i++;
      const depth = stack.length;
      if (top.isArray) readElement(top);
      else readMember(top);
      opened = stack.length > depth;
    } else if (c === (top.isArray ? 0x5d : 0x7d)) {
      i++;
      stack.pop();
      if (top.isArray && top.count > 0) add(top.name, String(top.count));
    } else {
      fail('parse', top.isArray ? "after array element, I expect ',' or ']'" : "after key and value, inside map, I expect ',' or '}'");
    }
  }
  skipWhitespace();
  if (i < n) fail('parse', 'trailing garbage');
}
