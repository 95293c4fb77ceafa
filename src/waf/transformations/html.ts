// htmlEntityDecode, as ModSecurity v2 decodes: &#DDD; and &#xHH; (any number of digits, the
// value truncated to its low byte), and the named entities quot, amp, lt, gt and nbsp (any case),
// each with or without the closing semicolon. Other named entities stay as they are (Coraza
// decodes every HTML5 entity, to UTF-8; CRS's rules match the others literally, e.g. `&colon;`).
import { copyRun, HEX_VALUE, isAlnum, isDigit, outputBuffer, outputString } from './bytes.ts';

/** The byte of each entity name decoded, by lower-case name. */
const NAMED_ENTITIES: ReadonlyMap<string, number> = new Map([
  ['quot', 0x22],
  ['amp', 0x26],
  ['lt', 0x3c],
  ['gt', 0x3e],
  ['nbsp', 0xa0],
]);

/** Longest name in NAMED_ENTITIES. */
const LONGEST_NAME = 4;

export function htmlEntityDecode(input: string): string {
  let ampersand = input.indexOf('&');
  if (ampersand < 0) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  // input[0, copied) is in out; it stays 0 until an entity is decoded
  let copied = 0;
  while (ampersand >= 0) {
    const at = ampersand;
    let byte = -1;
    let end = at + 1;
    if (input.charCodeAt(end) === 0x23) {
      end++;
      const hex = (input.charCodeAt(end) | 0x20) === 0x78;
      if (hex) end++;
      const digits = end;
      while (end < length && (hex ? HEX_VALUE[input.charCodeAt(end)] >= 0 : isDigit(input.charCodeAt(end)))) end++;
      if (end > digits) byte = hex ? hexEntityByte(input, digits, end) : decimalEntityByte(input, digits, end);
    } else {
      while (end < length && isAlnum(input.charCodeAt(end))) end++;
      if (end - at - 1 <= LONGEST_NAME) byte = NAMED_ENTITIES.get(input.slice(at + 1, end).toLowerCase()) ?? -1;
    }
    if (byte < 0) {
      // nothing decoded: the `&` and what was read after it stay as they are
      ampersand = input.indexOf('&', at + 1);
      continue;
    }
    written = copyRun(out, written, input, copied, at);
    out[written++] = byte;
    copied = input.charCodeAt(end) === 0x3b ? end + 1 : end;
    ampersand = input.indexOf('&', copied);
  }
  if (copied === 0) return input;
  written = copyRun(out, written, input, copied, length);
  return outputString(out, written);
}

/** Digits beyond these many (leading zeros aside) overflow the C long strtol() parses into. */
const LONG_HEX_DIGITS = 16;
const LONG_DECIMAL_DIGITS = 19;
const LONG_MAX_DECIMAL = '9223372036854775807';

/**
 * The low byte of the hex number input[from, to), as ModSecurity's strtol() and cast give it: a
 * number beyond the 64-bit long saturates to LONG_MAX, whose low byte is 0xff.
 */
function hexEntityByte(input: string, from: number, to: number): number {
  while (from < to && input.charCodeAt(from) === 0x30) from++;
  const digits = to - from;
  if (digits > LONG_HEX_DIGITS || (digits === LONG_HEX_DIGITS && HEX_VALUE[input.charCodeAt(from)] >= 8)) return 0xff;
  if (digits === 0) return 0;
  const low = HEX_VALUE[input.charCodeAt(to - 1)];
  return digits === 1 ? low : (HEX_VALUE[input.charCodeAt(to - 2)] << 4) | low;
}

/** As hexEntityByte, for a decimal number. */
function decimalEntityByte(input: string, from: number, to: number): number {
  while (from < to && input.charCodeAt(from) === 0x30) from++;
  const digits = to - from;
  if (digits > LONG_DECIMAL_DIGITS || (digits === LONG_DECIMAL_DIGITS && input.slice(from, to) > LONG_MAX_DECIMAL)) return 0xff;
  let byte = 0;
  for (let k = from; k < to; k++) byte = (byte * 10 + input.charCodeAt(k) - 0x30) & 0xff;
  return byte;
}
