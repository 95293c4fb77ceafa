// htmlEntityDecode, as ModSecurity v2 decodes: &#DDD; and &#xHH; (any number of digits, the
// value truncated to its low byte), and the named entities quot, amp, lt, gt and nbsp (any case),
// each with or without the closing semicolon. Other named entities stay as they are (Coraza
// decodes every HTML5 entity, to UTF-8; CRS's rules match the others literally, e.g. `&colon;`).
import { bytesString, HEX_VALUE, isAlnum, isDigit, LONG_RUN, moveRun } from './bytes.ts';
import { decodeEscapes, type Escape } from './escape-decoding.ts';

const AMPERSAND = 0x26;

/**
 * The byte a named entity decodes to, for bytes[from, to) an ASCII letters-and-digits name: one
 * of quot, amp, lt, gt, nbsp in any case, or -1.
 */
function namedEntityByte(bytes: Buffer, from: number, to: number): number {
  // letters are compared lower-cased (a digit never equals a letter either way); bytes read past
  // a short name are not looked at
  const c0 = bytes[from] | 0x20;
  const c1 = bytes[from + 1] | 0x20;
  const c2 = bytes[from + 2] | 0x20;
  const c3 = bytes[from + 3] | 0x20;
  switch (to - from) {
    case 2:
      if (c1 !== 0x74) return -1;
      return c0 === 0x6c ? 0x3c : c0 === 0x67 ? 0x3e : -1;
    case 3:
      return c0 === 0x61 && c1 === 0x6d && c2 === 0x70 ? 0x26 : -1;
    case 4:
      if (c0 === 0x71 && c1 === 0x75 && c2 === 0x6f && c3 === 0x74) return 0x22;
      return c0 === 0x6e && c1 === 0x62 && c2 === 0x73 && c3 === 0x70 ? 0xa0 : -1;
    default:
      return -1;
  }
}

export function htmlEntityDecode(input: string): string {
  return decodeEscapes(input, '&', readEntity, decodeEntitiesInPlace);
}

function decodeEntitiesInPlace(input: string, bytes: Buffer, written: number, read: number): string {
  const length = input.length;
  const escape: Escape = { end: 0, byte: -1 };
  let plainRun = 0;
  while (read < length) {
    const c = bytes[read];
    if (c === AMPERSAND && readEntity(bytes, read, length, escape)) {
      bytes[written++] = escape.byte;
      read = escape.end;
      plainRun = 0;
    } else if (++plainRun < LONG_RUN) {
      bytes[written++] = c;
      read++;
    } else {
      const next = input.indexOf('&', read + 1);
      const end = next < 0 ? length : next;
      written = moveRun(bytes, written, read, end);
      read = end;
      plainRun = 0;
    }
  }
  return bytesString(bytes, written);
}

function readEntity(bytes: Buffer, at: number, length: number, escape: Escape): boolean {
  let end = at + 1;
  let byte: number;
  if (bytes[end] === 0x23) {
    end++;
    const hex = (bytes[end] | 0x20) === 0x78;
    if (hex) end++;
    const digits = end;
    while (end < length && (hex ? HEX_VALUE[bytes[end]] >= 0 : isDigit(bytes[end]))) end++;
    if (end === digits) return false;
    byte = hex ? hexEntityByte(bytes, digits, end) : decimalEntityByte(bytes, digits, end);
  } else {
    while (end < length && isAlnum(bytes[end])) end++;
    byte = namedEntityByte(bytes, at + 1, end);
    if (byte < 0) return false;
  }
  escape.byte = byte;
  escape.end = end < length && bytes[end] === 0x3b ? end + 1 : end;
  return true;
}

/** Digits beyond these many (leading zeros aside) overflow the C long strtol() parses into. */
const LONG_HEX_DIGITS = 16;
const LONG_DECIMAL_DIGITS = 19;
const LONG_MAX_DECIMAL = '9223372036854775807';

/**
 * The low byte of the hex number bytes[from, to), as ModSecurity's strtol() and cast give it: a
 * number beyond the 64-bit long saturates to LONG_MAX, whose low byte is 0xff.
 */
function hexEntityByte(bytes: Buffer, from: number, to: number): number {
  while (from < to && bytes[from] === 0x30) from++;
  const digits = to - from;
  if (digits > LONG_HEX_DIGITS || (digits === LONG_HEX_DIGITS && HEX_VALUE[bytes[from]] >= 8)) return 0xff;
  if (digits === 0) return 0;
  const low = HEX_VALUE[bytes[to - 1]];
  return digits === 1 ? low : (HEX_VALUE[bytes[to - 2]] << 4) | low;
}

/** As hexEntityByte, for a decimal number. */
function decimalEntityByte(bytes: Buffer, from: number, to: number): number {
  while (from < to && bytes[from] === 0x30) from++;
  const digits = to - from;
  if (digits > LONG_DECIMAL_DIGITS || (digits === LONG_DECIMAL_DIGITS && bytes.toString('latin1', from, to) > LONG_MAX_DECIMAL)) return 0xff;
  let byte = 0;
  for (let k = from; k < to; k++) byte = (byte * 10 + bytes[k] - 0x30) & 0xff;
  return byte;
}
