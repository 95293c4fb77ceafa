// cmdLine: normalises a command line the way shells and cmd.exe read past evasions.
import { bytesString, inputBytes } from './bytes.ts';

/** Where cmdLine changes something: a byte it deletes, replaces or lower-cases, or a space it drops. */
const CHANGED_BY_CMDLINE = /["'\\^,;\t\r\nA-Z]| [ /(]/;

/**
 * Deletes \ " ' ^, turns each run of spaces, tabs, CR, LF, commas and semicolons into one space
 * (deleted bytes do not end a run), drops that space before / and (, and lower-cases ASCII
 * letters. ModSecurity v2 also stops at the first NUL byte (its C string ends there); libmodsecurity3
 * and Coraza read on, and so does this: a NUL byte is kept, so a leading one cannot hide the rest.
 */
export function cmdLine(input: string): string {
  const first = input.search(CHANGED_BY_CMDLINE);
  if (first < 0) return input;
  const length = input.length;
  const bytes = inputBytes(input);
  // bytes before the first change stay, but a space just before it may start the run it extends
  const start = first > 0 && bytes[first - 1] === 0x20 ? first - 1 : first;
  let written = start;
  let inSpace = false;
  for (let read = start; read < length; read++) {
    const c = bytes[read];
    switch (c) {
      case 0x22:
      case 0x27:
      case 0x5c:
      case 0x5e:
        break;
      case 0x20:
      case 0x2c:
      case 0x3b:
      case 0x09:
      case 0x0d:
      case 0x0a:
        if (!inSpace) {
          bytes[written++] = 0x20;
          inSpace = true;
        }
        break;
      case 0x2f:
      case 0x28:
        if (inSpace) written--;
        inSpace = false;
        bytes[written++] = c;
        break;
      default:
        bytes[written++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
        inSpace = false;
    }
  }
  return bytesString(bytes, written);
}
