// Query strings and application/x-www-form-urlencoded bodies, split and decoded as ModSecurity
// (v2 `parse_arguments`, v3 `extractArguments`) does it, so that ARGS_GET / ARGS_POST hold what
// the Core Rule Set was tested against:
// - parts are split on the separator; every part is an argument, an empty one included (as the
//   name "" with the value ""), except the empty part after a trailing separator;
// - the name ends at the first '=', the value is the rest (more '=' included); a part without
//   '=' is a name with the value "";
// - '+' becomes a space and %XX its byte, in names and values alike; a '%' not followed by two
//   hex digits is kept as it is and reported (URLENCODED_ERROR). The result is bytes, not UTF-8.
// Coraza differs only in skipping empty parts; ModSecurity's way is kept.
import { ARGUMENTS_LIMIT_EXCEEDED, type NameValue } from './types.ts';

export interface UrlEncodedOptions {
  /** SecArgumentSeparator: the first character is used; '&' when absent. */
  separator?: string;
  /** How many arguments this call may still add (SecArgumentsLimit less those already held);
   * past it arguments are dropped and `error` is set. Unlimited when absent. */
  argumentsLimit?: number;
}

export interface UrlEncodedResult {
  /** The arguments in order, names and values decoded. */
  args: NameValue[];
  /** A '%' was not followed by two hex digits and was kept literally: URLENCODED_ERROR. */
  invalidEncoding: boolean;
  /** REQBODY_ERROR_MSG when the arguments limit dropped arguments; undefined otherwise. */
  error: string | undefined;
}

/** Hex digit values by byte, -1 for the rest. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

function hexValue(code: number): number {
  return code < 256 ? HEX[code] : -1;
}

export function parseUrlEncoded(data: string, options: UrlEncodedOptions = {}): UrlEncodedResult {
  const separator = options.separator === undefined || options.separator === '' ? '&' : options.separator[0];
  const limit = options.argumentsLimit ?? Infinity;
  const result: UrlEncodedResult = { args: [], invalidEncoding: false, error: undefined };
  const n = data.length;
  // Next '=', '%' and '+' at or after the current part, found once and moved forward only when
  // passed, so that the scan stays linear however many parts there are.
  let equals = data.indexOf('=');
  let percent = data.indexOf('%');
  let plus = data.indexOf('+');
  let start = 0;
  while (start < n) {
    let end = data.indexOf(separator, start);
    if (end === -1) end = n;
    if (equals !== -1 && equals < start) equals = data.indexOf('=', start);
    if (percent !== -1 && percent < start) percent = data.indexOf('%', start);
    if (plus !== -1 && plus < start) plus = data.indexOf('+', start);
    const encoded = (percent !== -1 && percent < end) || (plus !== -1 && plus < end);
    const nameEnd = equals !== -1 && equals < end ? equals : end;
    const name = encoded ? decode(data, start, nameEnd, result) : data.slice(start, nameEnd);
    const value = nameEnd === end ? '' : encoded ? decode(data, nameEnd + 1, end, result) : data.slice(nameEnd + 1, end);
    if (result.args.length < limit) result.args.push([name, value]);
    else result.error = ARGUMENTS_LIMIT_EXCEEDED;
    start = end + 1;
  }
  return result;
}

/** Reused room for the decoded bytes of a typical value (decoded is never longer than encoded). */
const scratch = Buffer.allocUnsafe(4096);

/** `data[start, end)` with '+' as space and %XX decoded; a bad '%' stays and is noted in `result`. */
function decode(data: string, start: number, end: number, result: UrlEncodedResult): string {
  const out = end - start <= scratch.length ? scratch : Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let i = start; i < end; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x2b) {
      out[length++] = 0x20;
    } else if (c === 0x25) {
      if (i + 2 < end) {
        const high = hexValue(data.charCodeAt(i + 1));
        const low = hexValue(data.charCodeAt(i + 2));
        if (high >= 0 && low >= 0) {
          out[length++] = (high << 4) | low;
          i += 2;
          continue;
        }
      }
      result.invalidEncoding = true;
      out[length++] = c;
    } else {
      out[length++] = c;
    }
  }
  return out.toString('latin1', 0, length);
}
