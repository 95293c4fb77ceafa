// cmdLine: normalises a command line the way shells and cmd.exe read past evasions.
import { outputBuffer, outputString } from './bytes.ts';

/** Where cmdLine changes something: a byte it deletes, replaces or lower-cases, or a space it drops. */
const CHANGED_BY_CMDLINE = /["'\\^,;\t\r\nA-Z]| [ /(]/;

/**
 * Deletes \ " ' ^, turns each run of spaces, tabs, CR, LF, commas and semicolons into one space
 * (deleted bytes do not end a run), drops that space before / and (, and lower-cases ASCII
 * letters. ModSecurity v2 also stops at the first NUL byte (its C string ends there); libmodsecurity3
 * and Coraza read on, and so does this: a NUL byte is kept, so a leading one cannot hide the rest.
 */
export function cmdLine(input: string): string {
  if (!CHANGED_BY_CMDLINE.test(input)) return input;
  const length = input.length;
  const out = outputBuffer(length);
  let written = 0;
  let inSpace = false;
  for (let i = 0; i < length; i++) {
    const c = input.charCodeAt(i);
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
          out[written++] = 0x20;
          inSpace = true;
        }
        break;
      case 0x2f:
      case 0x28:
        if (inSpace) written--;
        inSpace = false;
        out[written++] = c;
        break;
      default:
        out[written++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
        inSpace = false;
    }
  }
  return outputString(out, written);
}
