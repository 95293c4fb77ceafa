// multipart/form-data as ModSecurity v2 parses it (apache2/msc_multipart.c; v3 is the same
// parser), strict checks and all, because the Core Rule Set and the MULTIPART_* variables are
// defined by what that parser reports. Its quirks are reproduced on purpose:
// - the body is read in lines of at most 4096 bytes (longer lines are cut into 4096-byte pieces,
//   or 4095 when the next byte is '\r'); only a piece that starts a line can be a boundary;
// - a part's value ends before the line ending that precedes the boundary (CRLF or LF);
// - a boundary line right where a part's data should begin is data, and MULTIPART_INVALID_PART;
// - anything after the final boundary, even one CRLF, sets MULTIPART_DATA_AFTER;
// - the Content-Type and Content-Disposition grammars are ModSecurity's, case-sensitive where it
//   is ("boundary", "form-data", "name", "filename").
// On an error the parse stops: no part becomes an argument (ModSecurity does not read the
// arguments of a body it failed to parse), while files and part headers of the parts completed
// before it are kept, as ModSecurity keeps them. `error` is REQBODY_ERROR_MSG, word for word.
import { ARGUMENTS_LIMIT_EXCEEDED, type NameValue } from './types.ts';

export interface MultipartOptions {
  /** SecUploadFileLimit: a file with content past this many is listed without its content, and
   * MULTIPART_FILE_LIMIT_EXCEEDED is set. ModSecurity applies it only when it extracts files
   * (SecUploadKeepFiles, SecTmpSaveUploadedFiles, @inspectFile). Unlimited when absent. */
  fileLimit?: number;
  /** How many form fields may become arguments (SecArgumentsLimit less those already held);
   * past it `error` is "SecArgumentsLimit exceeded". Unlimited when absent. */
  argumentsLimit?: number;
}

export interface MultipartFile {
  /** The part's name: FILES_NAMES, and the key of FILES, FILES_SIZES, FILES_TMP_CONTENT. */
  name: string;
  /** The filename parameter as sent, possibly "": FILES. */
  filename: string;
  /** Length of the content in bytes: FILES_SIZES. */
  size: number;
  /** The content (FILES_TMP_CONTENT); undefined for a file past `fileLimit`. */
  content: string | undefined;
}

/** The MULTIPART_* flag variables (true is "1"). */
export interface MultipartFlags {
  boundaryQuoted: boolean;
  boundaryWhitespace: boolean;
  dataBefore: boolean;
  dataAfter: boolean;
  headerFolding: boolean;
  /** MULTIPART_LF_LINE: a line (part header or boundary) ended with a bare LF. */
  lfLine: boolean;
  /** MULTIPART_CRLF_LINE: a line (part header or boundary) ended with CRLF. */
  crlfLine: boolean;
  /** MULTIPART_CRLF_LF_LINES: both of the above. */
  crlfLfLines: boolean;
  missingSemicolon: boolean;
  invalidQuoting: boolean;
  invalidPart: boolean;
  invalidHeaderFolding: boolean;
  fileLimitExceeded: boolean;
  unmatchedBoundary: boolean;
  /** MULTIPART_STRICT_ERROR: any flag above but crlfLine, crlfLfLines and unmatchedBoundary, or
   * a malformed Content-Type or body; not a body that merely ends too early ("Final boundary
   * missing", "No boundaries found"), which ModSecurity leaves out of it. */
  strictError: boolean;
}

export interface MultipartResult {
  /** Form fields (parts without a filename) in order: ARGS_POST. Empty when `error` is set. */
  args: NameValue[];
  /** File parts in order: FILES, FILES_NAMES, FILES_SIZES, FILES_TMP_CONTENT. */
  files: MultipartFile[];
  /** FILES_COMBINED_SIZE: the sum of the files' sizes. */
  filesCombinedSize: number;
  /** MULTIPART_PART_HEADERS: [part name, header line as sent, without its line ending; a folded
   * header is one line "Name: value continuation"]. */
  partHeaders: NameValue[];
  /** MULTIPART_NAME: the last name parameter read from a Content-Disposition header. */
  name: string | undefined;
  /** MULTIPART_FILENAME: the last filename parameter read from a Content-Disposition header. */
  filename: string | undefined;
  flags: MultipartFlags;
  /** REQBODY_ERROR_MSG (REQBODY_ERROR is 1) when the Content-Type or the body is malformed.
   * ModSecurity v2 answers 500 without running phase 2 for a body that ends too early; v3 and
   * Coraza, like every other error here, go on with REQBODY_ERROR set. */
  error: string | undefined;
}

/** ModSecurity's line buffer: the longest piece of the body looked at as one line. */
const LINE_BUFFER = 4096;
const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;

/** C `isspace`: space, \t, \n, \v, \f, \r. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** RFC 2616 token characters (ModSecurity's `is_token_char`). */
function isTokenChar(code: number): boolean {
  if (code <= 32 || code >= 127) return false;
  switch (code) {
    case 0x28: case 0x29: case 0x3c: case 0x3e: case 0x40: case 0x2c: case 0x3b: case 0x3a:
    case 0x5c: case 0x22: case 0x2f: case 0x5b: case 0x5d: case 0x3f: case 0x3d:
      return false;
  }
  return true;
}

/** Characters RFC 2046 allows in a boundary (a space too, but not last). */
function isBoundaryChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ||
    code === 0x20 || code === 0x27 || code === 0x28 || code === 0x29 || code === 0x2b || code === 0x5f ||
    code === 0x2c || code === 0x2d || code === 0x2e || code === 0x2f || code === 0x3a || code === 0x3d || code === 0x3f;
}

/** ModSecurity's `log_escape_nq`: how its messages quote bytes they report. */
function logEscape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x08: out += '\\b'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x0b: out += '\\v'; break;
      case BACKSLASH: out += '\\\\'; break;
      default:
        out += c <= 0x1f || c >= 0x7f ? '\\x' + (c & 0xff).toString(16).padStart(2, '0') : text[i];
    }
  }
  return out;
}

/** How many times "boundary" (any case) appears with an '=' somewhere after it. */
function countBoundaryParams(text: string): number {
  const lower = text.toLowerCase();
  const lastEquals = lower.lastIndexOf('=');
  let count = 0;
  for (let at = lower.indexOf('boundary'); at !== -1; at = lower.indexOf('boundary', at + 8)) {
    if (lastEquals >= at + 8) count++;
  }
  return count;
}

function newFlags(): MultipartFlags {
  return {
    boundaryQuoted: false, boundaryWhitespace: false, dataBefore: false, dataAfter: false, headerFolding: false,
    lfLine: false, crlfLine: false, crlfLfLines: false, missingSemicolon: false, invalidQuoting: false,
    invalidPart: false, invalidHeaderFolding: false, fileLimitExceeded: false, unmatchedBoundary: false,
    strictError: false,
  };
}

/** The boundary from the Content-Type header, or the error ModSecurity reports for it. */
function parseBoundary(contentType: string, flags: MultipartFlags): string | { error: string } {
  if (contentType.length > 1024) return { error: 'Multipart: Invalid boundary in C-T (length).' };
  if (contentType.slice(0, 19).toLowerCase() !== 'multipart/form-data') return { error: 'Multipart: Invalid MIME type.' };
  if (countBoundaryParams(contentType) > 1) return { error: 'Multipart: Multiple boundary parameters in C-T.' };
  const at = contentType.indexOf('boundary');
  if (at === -1) {
    return { error: countBoundaryParams(contentType) > 0 ? 'Multipart: Invalid boundary in C-T (case sensitivity).' : 'Multipart: Boundary not found in C-T.' };
  }
  let seenSemicolon = false;
  for (let i = 19; i < at; i++) {
    const c = contentType.charCodeAt(i);
    if (isSpace(c)) continue;
    if (c === SEMICOLON && !seenSemicolon) seenSemicolon = true;
    else return { error: 'Multipart: Invalid boundary in C-T (malformed).' };
  }
  if (!seenSemicolon) flags.missingSemicolon = true;
  const equals = contentType.indexOf('=', at + 8);
  if (equals === -1) return { error: 'Multipart: Invalid boundary in C-T (malformed).' };
  for (let i = at + 8; i < equals; i++) {
    if (!isSpace(contentType.charCodeAt(i))) return { error: 'Multipart: Invalid boundary in C-T (parameter name).' };
    flags.boundaryWhitespace = true;
  }
  const value = contentType.slice(equals + 1);
  if (isSpace(value.charCodeAt(0))) flags.boundaryWhitespace = true;
  const opens = value.charCodeAt(0) === QUOTE;
  const closes = value.length >= 2 && value.charCodeAt(value.length - 1) === QUOTE;
  let boundary = value;
  if (opens && closes) {
    boundary = value.slice(1, -1);
    flags.boundaryQuoted = true;
  } else if (opens || closes) {
    return { error: 'Multipart: Invalid boundary in C-T (quote).' };
  }
  if (countBoundaryParams(boundary) !== 0) return { error: 'Multipart: Invalid boundary in C-T (content).' };
  for (let i = 0; i < boundary.length; i++) {
    const c = boundary.charCodeAt(i);
    if (!isBoundaryChar(c) || (c === 0x20 && i === boundary.length - 1)) return { error: 'Multipart: Invalid boundary in C-T (characters).' };
  }
  if (boundary === '') return { error: 'Multipart: Invalid boundary in C-T (empty).' };
  return boundary;
}

interface Header {
  name: string;
  value: string;
}

interface Part {
  /** Headers by lower-cased name (ModSecurity's table is case-insensitive). */
  headers: Map<string, Header>;
  /** The header a folded line continues. */
  lastHeader: Header | undefined;
  /** The latest header line, recorded once the next line shows it is complete. */
  lastHeaderLine: string | undefined;
  headerLines: string[];
  name: string | undefined;
  filename: string | undefined;
  /** The data: body[dataStart, dataEnd), dataStart -1 while there is none. */
  dataStart: number;
  dataEnd: number;
  /** A file counted against the file limit (ModSecurity counts one when its data begins). */
  counted: boolean;
  /** A file whose content is kept (within the file limit). */
  stored: boolean;
}

/** A failed step: the message without ModSecurity's "Multipart parsing error: " prefix. */
class MultipartError extends Error {}

/** The parse in progress: ModSecurity's `multipart_data`. */
interface Parse {
  body: string;
  boundary: string;
  options: MultipartOptions;
  result: MultipartResult;
  /** Parts completed by a boundary, in order. */
  parts: Part[];
  /** The part being read; undefined before the first boundary and after the final one. */
  part: Part | undefined;
  /** The part's headers are being read (else its data). */
  inHeaders: boolean;
  /** Some data was read since the part's headers ended. */
  dataRead: boolean;
  /** Boundary lines read so far. */
  boundaries: number;
  /** The final boundary was read. */
  complete: boolean;
  /** Files counted against `options.fileLimit`. */
  storedFiles: number;
}

function newPart(): Part {
  return {
    headers: new Map(), lastHeader: undefined, lastHeaderLine: undefined, headerLines: [], name: undefined,
    filename: undefined, dataStart: -1, dataEnd: -1, counted: false, stored: true,
  };
}

/** Reads Content-Disposition parameters into the part; ModSecurity's return codes (< 0 fails). */
function parseContentDisposition(parse: Parse, value: string): number {
  const { result, part } = parse;
  if (!value.startsWith('form-data')) return -1;
  const n = value.length;
  let p = 9;
  while (p < n && isBlank(value.charCodeAt(p))) p++;
  if (p === n) return 1;
  if (value.charCodeAt(p) !== SEMICOLON) return -2;
  p++;
  while (p < n) {
    while (p < n && isBlank(value.charCodeAt(p))) p++;
    if (p === n) return -3;
    const nameStart = p;
    while (p < n && value.charCodeAt(p) !== EQUALS && !isBlank(value.charCodeAt(p))) p++;
    if (p === n) return -4;
    const name = value.slice(nameStart, p);
    while (p < n && isBlank(value.charCodeAt(p))) p++;
    if (p === n) return -5;
    if (value.charCodeAt(p) !== EQUALS) return -13;
    p++;
    while (p < n && isBlank(value.charCodeAt(p))) p++;
    if (p === n) return -6;
    let quote = 0;
    let param: string;
    const first = value.charCodeAt(p);
    if (first === QUOTE || first === APOSTROPHE) {
      quote = first;
      if (quote === APOSTROPHE) result.flags.invalidQuoting = true;
      p++;
      if (p === n) return -7;
      let unescaped = '';
      let run = p;
      while (p < n) {
        const c = value.charCodeAt(p);
        if (c === BACKSLASH) {
          if (p + 1 === n) return -8;
          const next = value.charCodeAt(p + 1);
          // Only the quote and the backslash are escaped; another backslash stays (IE sends them).
          if (next === quote || next === BACKSLASH) {
            unescaped += value.slice(run, p);
            p++;
            run = p;
          }
        } else if (c === quote) {
          break;
        }
        p++;
      }
      if (p === n) return -10;
      param = unescaped + value.slice(run, p);
      p++;
    } else {
      const start = p;
      while (p < n && isTokenChar(value.charCodeAt(p))) p++;
      param = value.slice(start, p);
    }
    // An apostrophe in a value not in double quotes may fool a parser that accepts single quotes.
    const strayApostrophe = quote !== QUOTE && param.includes("'");
    if (name === 'name') {
      if (strayApostrophe) result.flags.invalidQuoting = true;
      result.name = param;
      if (part!.name !== undefined) return -14;
      part!.name = param;
    } else if (name === 'filename') {
      if (strayApostrophe) result.flags.invalidQuoting = true;
      result.filename = param;
      if (part!.filename !== undefined) return -15;
      part!.filename = param;
    } else {
      return -11;
    }
    if (p < n) {
      while (p < n && isBlank(value.charCodeAt(p))) p++;
      if (p === n) return 1;
      if (value.charCodeAt(p) !== SEMICOLON) {
        const before = value.charCodeAt(p - 1);
        if (before === APOSTROPHE || before === QUOTE) result.flags.invalidQuoting = true;
        return -12;
      }
      p++;
    }
  }
  return 1;
}

/** One complete header-section line, body[start, end), ending with LF. */
function readHeaderLine(parse: Parse, start: number, end: number): void {
  const { body, result } = parse;
  const flags = result.flags;
  const part = parse.part!;
  const line = body.slice(start, end);
  if (line.includes('\0')) throw new MultipartError('Multipart: Nul byte in part headers.');
  const crlf = line.length > 1 && line.charCodeAt(line.length - 2) === CR;
  if (crlf) flags.crlfLine = true;
  else flags.lfLine = true;
  const text = line.slice(0, line.length - (crlf ? 2 : 1));

  if (text === '') {
    const disposition = part.headers.get('content-disposition');
    if (disposition === undefined) throw new MultipartError('Multipart: Part missing Content-Disposition header.');
    const code = parseContentDisposition(parse, disposition.value);
    if (code < 0) throw new MultipartError(`Multipart: Invalid Content-Disposition header (${code}): ${logEscape(disposition.value)}.`);
    if (part.name === undefined) throw new MultipartError('Multipart: Content-Disposition header missing name field.');
    // A parser that looks for "filename=" would miss one written differently; reject it.
    if (part.filename !== undefined && !disposition.value.includes('filename=')) {
      throw new MultipartError('Multipart: Invalid Content-Disposition header (filename).');
    }
    parse.inHeaders = false;
    parse.dataRead = false;
    part.lastHeader = undefined;
    if (part.lastHeaderLine !== undefined) part.headerLines.push(part.lastHeaderLine);
    return;
  }

  if (isSpace(text.charCodeAt(0))) {
    // Folding: RFC 2557 allows SP and HTAB; PHP takes any whitespace, so it is accepted, flagged.
    flags.headerFolding = true;
    let from = 0;
    while (isSpace(line.charCodeAt(from))) {
      if (!isBlank(line.charCodeAt(from))) flags.invalidHeaderFolding = true;
      from++;
    }
    const header = part.lastHeader;
    if (header === undefined) throw new MultipartError('Multipart: Invalid part header (folding error).');
    header.value = header.value + ' ' + (from < text.length ? text.slice(from) : '');
    if (header.value.length > LINE_BUFFER) throw new MultipartError('Multipart: Part header too long.');
    part.lastHeaderLine = header.name + ': ' + header.value;
    return;
  }

  if (part.lastHeaderLine !== undefined) part.headerLines.push(part.lastHeaderLine);
  part.lastHeaderLine = text;
  const colon = text.indexOf(':');
  if (colon === -1) throw new MultipartError(`Multipart: Invalid part header (colon missing): ${logEscape(line)}.`);
  if (colon === 0) throw new MultipartError('Multipart: Invalid part header (header name missing).');
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) throw new MultipartError('Multipart: Invalid part header (contains invalid character).');
  }
  const name = text.slice(0, colon);
  let from = colon + 1;
  while (from < text.length && isBlank(text.charCodeAt(from))) from++;
  const key = name.toLowerCase();
  if (part.headers.has(key)) throw new MultipartError(`Multipart: Duplicate part header: ${logEscape(name)}.`);
  const header = { name, value: text.slice(from) };
  part.headers.set(key, header);
  part.lastHeader = header;
}

/** A piece of part data, body[start, end); `endsLine` when it ends with LF. */
function readData(parse: Parse, start: number, end: number, endsLine: boolean): void {
  const part = parse.part!;
  parse.dataRead = true;
  if (part.dataStart === -1) part.dataStart = start;
  // The line ending before a boundary belongs to the boundary: held back from the value, and
  // given back if more data follows.
  part.dataEnd = endsLine ? end - (end - start >= 2 && parse.body.charCodeAt(end - 2) === CR ? 2 : 1) : end;
  const limit = parse.options.fileLimit;
  if (part.filename === undefined || limit === undefined || part.counted || !part.stored) return;
  if (parse.storedFiles >= limit) {
    part.stored = false;
    parse.result.flags.fileLimitExceeded = true;
  } else {
    part.counted = true;
    parse.storedFiles++;
  }
}

/** A boundary line: completes the part being read, and begins the next one unless final. */
function readBoundary(parse: Parse, final: boolean): void {
  const part = parse.part;
  if (part !== undefined) {
    if (part.name !== undefined) parse.parts.push(part);
    else parse.result.flags.invalidPart = true;
  }
  parse.part = final ? undefined : newPart();
  parse.inHeaders = true;
  parse.dataRead = false;
  parse.boundaries++;
  if (final) parse.complete = true;
}

export function parseMultipart(contentType: string, body: string, options: MultipartOptions = {}): MultipartResult {
  const result: MultipartResult = {
    args: [], files: [], filesCombinedSize: 0, partHeaders: [], name: undefined, filename: undefined,
    flags: newFlags(), error: undefined,
  };
  const boundary = parseBoundary(contentType, result.flags);
  if (typeof boundary !== 'string') {
    result.error = boundary.error;
    return finish(result, body, [], options, true);
  }
  const parse: Parse = {
    body, boundary, options, result, parts: [], part: undefined, inHeaders: true, dataRead: false,
    boundaries: 0, complete: false, storedFiles: 0,
  };
  let failed = false;
  try {
    const unfinished = readBody(parse);
    if (unfinished !== undefined) result.error = 'Multipart parsing error: ' + unfinished;
  } catch (e) {
    if (!(e instanceof MultipartError)) throw e;
    result.error = 'Multipart parsing error: ' + e.message;
    failed = true;
  }
  return finish(result, body, parse.parts, options, failed);
}

/** Walks the body in ModSecurity's line pieces. Throws a MultipartError where ModSecurity fails
 * on malformed input (a strict error); returns the message for a body that ends unfinished
 * (ModSecurity reports it without raising MULTIPART_STRICT_ERROR). */
function readBody(parse: Parse): string | undefined {
  const { body, boundary } = parse;
  const flags = parse.result.flags;
  const n = body.length;
  const dashBoundary = '--' + boundary;
  // Next LF, NUL and "--boundary" at or after the current piece, moved forward only when passed,
  // so that the walk stays linear in the body however it is cut.
  let nextLf = body.indexOf('\n');
  let nextNul = body.indexOf('\0');
  let nextDashBoundary = body.indexOf(dashBoundary);
  let atLineStart = true;
  let afterBareLf = false;
  let start = 0;
  while (start < n) {
    if (nextLf !== -1 && nextLf < start) nextLf = body.indexOf('\n', start);
    if (nextNul !== -1 && nextNul < start) nextNul = body.indexOf('\0', start);
    let end: number;
    let cutBeforeCr = false;
    if (nextLf !== -1 && nextLf - start < LINE_BUFFER - 1) {
      end = nextLf + 1;
    } else if (n - start < LINE_BUFFER) {
      break; // an unfinished line stays in the buffer for the end of the body
    } else if (body.charCodeAt(start + LINE_BUFFER - 1) === CR) {
      end = start + LINE_BUFFER - 1;
      cutBeforeCr = true;
    } else {
      end = start + LINE_BUFFER;
    }
    const endsLine = body.charCodeAt(end - 1) === LF;
    // ModSecurity compares lines as C strings: a NUL ends what it sees.
    const visible = (nextNul !== -1 && nextNul < end ? nextNul : end) - start;

    let isBoundary = false;
    if (atLineStart && visible > 3 && body.charCodeAt(start) === DASH && body.charCodeAt(start + 1) === DASH) {
      if (visible >= boundary.length + 2 && body.startsWith(boundary, start + 2)) {
        if (afterBareLf) flags.lfLine = true;
        if (!parse.dataRead && parse.boundaries > 0) {
          flags.invalidPart = true; // where the part's data should begin: read as data
        } else {
          let at = start + 2 + boundary.length;
          const final = body.charCodeAt(at) === DASH && body.charCodeAt(at + 1) === DASH;
          if (final) at += 2;
          if (end - at === 2 && body.charCodeAt(at) === CR && body.charCodeAt(at + 1) === LF) flags.crlfLine = true;
          else if (end - at === 1 && body.charCodeAt(at) === LF) flags.lfLine = true;
          else throw new MultipartError(`Multipart: Invalid boundary: ${logEscape(body.slice(start, start + visible))}`);
          readBoundary(parse, final);
          isBoundary = true;
        }
      } else {
        if (flags.boundaryQuoted && visible >= boundary.length + 3 && body.charCodeAt(start + 2) === QUOTE && body.startsWith(boundary, start + 3)) {
          throw new MultipartError('Multipart: Invalid boundary (quotes).');
        }
        let p = start + 2;
        while (p < start + visible && isSpace(body.charCodeAt(p))) p++;
        if (p !== start + 2 && p + boundary.length <= start + visible && body.startsWith(boundary, p)) {
          throw new MultipartError('Multipart: Invalid boundary (whitespace).');
        }
        flags.unmatchedBoundary = true;
      }
    } else if (atLineStart && nextDashBoundary !== -1) {
      if (nextDashBoundary < start) nextDashBoundary = body.indexOf(dashBoundary, start);
      if (nextDashBoundary !== -1 && nextDashBoundary + dashBoundary.length <= end) flags.unmatchedBoundary = true;
    }

    if (!isBoundary) {
      if (parse.part === undefined) {
        flags.dataBefore = true;
      } else if (parse.inHeaders) {
        if (end - start === LINE_BUFFER || cutBeforeCr) throw new MultipartError(`Multipart: Part header line over ${LINE_BUFFER} bytes long`);
        readHeaderLine(parse, start, end);
      } else {
        readData(parse, start, end, endsLine);
      }
    }

    atLineStart = endsLine;
    afterBareLf = endsLine && !(end >= 2 && body.charCodeAt(end - 2) === CR);
    start = end;
    if (parse.complete) {
      if (start < n) flags.dataAfter = true;
      return undefined;
    }
  }

  if (n === 0) return undefined;
  if (parse.boundaries === 0) return 'Multipart: No boundaries found in payload.';
  // The final boundary may end the body without a line ending.
  if (atLineStart && n - start === dashBoundary.length + 2 && body.startsWith(dashBoundary, start) && body.endsWith('--')) {
    if (afterBareLf) flags.lfLine = true;
    if (!parse.dataRead) flags.invalidPart = true;
    readBoundary(parse, true);
    return undefined;
  }
  return 'Multipart: Final boundary missing.';
}

/** Fills the collections from the completed parts and settles the summary flags; `failed` is
 * ModSecurity's `flag_error` (a malformed Content-Type or body). */
function finish(result: MultipartResult, body: string, parts: readonly Part[], options: MultipartOptions, failed: boolean): MultipartResult {
  const flags = result.flags;
  const argumentsLimit = options.argumentsLimit ?? Infinity;
  const readArguments = result.error === undefined;
  for (const part of parts) {
    const name = part.name!;
    for (const line of part.headerLines) result.partHeaders.push([name, line]);
    const value = part.dataStart === -1 ? '' : body.slice(part.dataStart, part.dataEnd);
    if (part.filename !== undefined) {
      result.files.push({ name, filename: part.filename, size: value.length, content: part.stored ? value : undefined });
      result.filesCombinedSize += value.length;
    } else if (readArguments) {
      if (result.args.length < argumentsLimit) result.args.push([name, value]);
      else result.error = ARGUMENTS_LIMIT_EXCEEDED;
    }
  }
  flags.crlfLfLines = flags.crlfLine && flags.lfLine;
  flags.strictError = failed || flags.boundaryQuoted || flags.boundaryWhitespace || flags.dataBefore || flags.dataAfter ||
    flags.headerFolding || flags.lfLine || flags.missingSemicolon || flags.invalidQuoting || flags.invalidPart ||
    flags.invalidHeaderFolding || flags.fileLimitExceeded;
  return result;
}
