// The SecLang transformation library (the `t:` action): every transformation ModSecurity v2,
// libmodsecurity3 and Coraza document, with ModSecurity v2's semantics where the engines differ
// and CRS's regression tests do not settle it (each module says where and why). Values are binary
// strings, one char per byte; each transformation returns its input itself when nothing changed,
// and first looks for a byte it would change, so the common case costs one native scan.
import { base64Decode, base64DecodeExt, base64Encode } from './base64.ts';
import { lowercase, uppercase } from './case.ts';
import { cmdLine } from './command-line.ts';
import { removeComments, removeCommentsChar, replaceComments } from './comments.ts';
import { cssDecode, escapeSeqDecode, jsDecode } from './escapes.ts';
import { hexDecode, hexEncode, sqlHexDecode } from './hex.ts';
import { htmlEntityDecode } from './html.ts';
import { parityEven7bit, parityOdd7bit, parityZero7bit } from './parity.ts';
import { normalizePath, normalizePathWin } from './path.ts';
import { length, md5, sha1 } from './summaries.ts';
import { urlDecode, urlDecodeUni, urlEncode, utf8toUnicode } from './url.ts';
import { compressWhitespace, removeNulls, removeWhitespace, replaceNulls, trim, trimLeft, trimRight } from './whitespace.ts';

/** A SecLang transformation: bytes in, bytes out (binary strings). Returns the input string itself when nothing changed. */
export type Transformation = (input: string) => string;

/** Every transformation by its lower-case SecLang name (without "t:"), e.g. "urldecodeuni". `none` is handled by the engine, not here. */
export const TRANSFORMATIONS: ReadonlyMap<string, Transformation> = new Map<string, Transformation>([
  ['base64decode', base64Decode],
  ['base64decodeext', base64DecodeExt],
  ['base64encode', base64Encode],
  ['cmdline', cmdLine],
  ['compresswhitespace', compressWhitespace],
  ['cssdecode', cssDecode],
  ['escapeseqdecode', escapeSeqDecode],
  ['hexdecode', hexDecode],
  ['hexencode', hexEncode],
  ['htmlentitydecode', htmlEntityDecode],
  ['jsdecode', jsDecode],
  ['length', length],
  ['lowercase', lowercase],
  ['md5', md5],
  ['normalisepath', normalizePath],
  ['normalizepath', normalizePath],
  ['normalisepathwin', normalizePathWin],
  ['normalizepathwin', normalizePathWin],
  ['parityeven7bit', parityEven7bit],
  ['parityodd7bit', parityOdd7bit],
  ['parityzero7bit', parityZero7bit],
  ['removecomments', removeComments],
  ['removecommentschar', removeCommentsChar],
  ['removenulls', removeNulls],
  ['removewhitespace', removeWhitespace],
  ['replacecomments', replaceComments],
  ['replacenulls', replaceNulls],
  ['sha1', sha1],
  ['sqlhexdecode', sqlHexDecode],
  ['trim', trim],
  ['trimleft', trimLeft],
  ['trimright', trimRight],
  ['uppercase', uppercase],
  ['urldecode', urlDecode],
  ['urldecodeuni', urlDecodeUni],
  ['urlencode', urlEncode],
  ['utf8tounicode', utf8toUnicode],
]);

/** The transformation a SecLang name (without "t:", any case) stands for, if there is one. */
export function transformation(name: string): Transformation | undefined {
  return TRANSFORMATIONS.get(name.toLowerCase());
}
