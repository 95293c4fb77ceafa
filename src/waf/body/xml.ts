// XML bodies for the two XPath variables the Core Rule Set reads, with the values ModSecurity
// (libxml2 underneath) gives them:
// - XML:/*    one value, the text content of the root element: every text and CDATA descendant,
//             concatenated in document order, whitespace between elements included;
// - XML://@*  every attribute's value, in document order; namespace declarations (xmlns,
//             xmlns:p) are not attributes in XPath and are left out.
// Well-formedness is checked as libxml2 checks it (tags balanced and named alike, attributes
// quoted and unique, references valid, no stray '<' or ']]>', valid characters and UTF-8, one
// root, nothing but comments and processing instructions after it, nesting at most 256 deep),
// and a failure is ModSecurity's REQBODY_ERROR. Nothing is fetched and no DTD is processed: a
// DOCTYPE is skipped; only the five predefined entities and character references are expanded,
// and a reference to any other entity stays as written when a DOCTYPE could have declared it
// (an error otherwise, as libxml2 has it). Values are binary strings of UTF-8: a document in
// UTF-16 (by its byte order mark) or in another declared encoding is converted first.
export interface XmlOptions {
  /** Deepest element nesting accepted; 256 (libxml2's limit) when absent. */
  depthLimit?: number;
}

export interface XmlResult {
  /** XML:/* — the root element's text content; undefined when there is no root element. */
  rootText: string | undefined;
  /** XML://@* — attribute values in document order. */
  attributeValues: string[];
  /** REQBODY_ERROR_MSG when the document is not well-formed; what was read before the error
   * stays in the fields above, as it stays in libxml2's partial document. */
  error: string | undefined;
}

/** ModSecurity v2's message for any document libxml2 finds malformed. */
export const XML_PARSE_FAILED = 'XML parser error: XML: Failed parsing document.';

const DEFAULT_DEPTH_LIMIT = 256;

class XmlError extends Error {}

function fail(): never {
  throw new XmlError(XML_PARSE_FAILED);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d;
}

function isNameStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code === 0x3a || code >= 0x80;
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e;
}

/** A code point as UTF-8 bytes in a binary string. */
function utf8(codePoint: number): string {
  return Buffer.from(String.fromCodePoint(codePoint), 'utf8').toString('latin1');
}

/** XML 1.0 Char production, for character references. */
function isXmlChar(code: number): boolean {
  return code === 0x09 || code === 0x0a || code === 0x0d || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

/** The least code point a UTF-8 sequence of each length may encode (shorter forms are invalid). */
const SHORTEST = [0, 0, 0x80, 0x800, 0x10000];

/** Fails unless every byte is an allowed XML character in valid UTF-8. */
function checkCharacters(data: string): void {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) fail();
      continue;
    }
    const length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > n) fail();
    let codePoint = c & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = data.charCodeAt(i + k);
      if (next < 0x80 || next > 0xbf) fail();
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (!isXmlChar(codePoint) || codePoint < SHORTEST[length]) fail();
    i += length - 1;
  }
}

/** The document as UTF-8 bytes, from its byte order mark or its declared encoding. */
function toUtf8(data: string): string {
  const first = data.charCodeAt(0);
  const second = data.charCodeAt(1);
  if ((first === 0xfe && second === 0xff) || (first === 0xff && second === 0xfe)) {
    return reencode(data, first === 0xfe ? 'utf-16be' : 'utf-16le');
  }
  if (first === 0xef && second === 0xbb && data.charCodeAt(2) === 0xbf) return data.slice(3);
  const declared = declaredEncoding(data);
  if (declared === undefined || /^utf-?8$/i.test(declared)) return data;
  let nonAscii = false;
  for (let i = 0; i < data.length && !nonAscii; i++) nonAscii = data.charCodeAt(i) >= 0x80;
  return nonAscii ? reencode(data, declared) : data;
}

/** `data` decoded from `encoding`, as UTF-8 bytes; fails for an unknown encoding or bad bytes. */
function reencode(data: string, encoding: string): string {
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true }).decode(Buffer.from(data, 'latin1'));
  } catch {
    fail();
  }
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The encoding named in the XML declaration, if any. */
function declaredEncoding(data: string): string | undefined {
  if (!data.startsWith('<?xml')) return undefined;
  const end = data.indexOf('?>');
  const declaration = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(end === -1 ? data : data.slice(0, end));
  return declaration === null ? undefined : (declaration[1] ?? declaration[2]);
}

export function parseXml(data: string, options: XmlOptions = {}): XmlResult {
  const result: XmlResult = { rootText: undefined, attributeValues: [], error: undefined };
  if (data.length === 0) return result;
  try {
    let text = toUtf8(data);
    checkCharacters(text);
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    readDocument(text, options.depthLimit ?? DEFAULT_DEPTH_LIMIT, result);
  } catch (e) {
    if (!(e instanceof XmlError)) throw e;
    result.error = XML_PARSE_FAILED;
  }
  return result;
}

/** The XML declaration up to its '?>' (XML 1.0 production XMLDecl). */
const XML_DECLARATION = /^<\?xml\s+version\s*=\s*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:\s+encoding\s*=\s*(?:"[A-Za-z][\w.-]*"|'[A-Za-z][\w.-]*'))?(?:\s+standalone\s*=\s*(?:"(?:yes|no)"|'(?:yes|no)'))?\s*$/;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function readDocument(data: string, depthLimit: number, result: XmlResult): void {
  const n = data.length;
  let i = 0;
  let sawDoctype = false;
  const open: string[] = [];
  // The next '&' at or after i, found once and moved forward only when passed: linear scans.
  let nextAmpersand = data.indexOf('&');
  const ampersandFrom = (from: number): number => {
    if (nextAmpersand !== -1 && nextAmpersand < from) nextAmpersand = data.indexOf('&', from);
    return nextAmpersand;
  };

  const skipSpace = (): void => {
    while (i < n && isSpace(data.charCodeAt(i))) i++;
  };
  const readName = (): string => {
    const start = i;
    if (i >= n || !isNameStart(data.charCodeAt(i))) fail();
    i++;
    while (i < n && isNameChar(data.charCodeAt(i))) i++;
    return data.slice(start, i);
  };
  // The reference at i ('&'): its replacement text; i moves past the ';'.
  const readReference = (): string => {
    const start = i;
    const end = data.indexOf(';', i);
    if (end === -1) fail();
    const body = data.slice(i + 1, end);
    i = end + 1;
    if (body.charCodeAt(0) === 0x23) {
      const hex = body.charCodeAt(1) === 0x78;
      const digits = body.slice(hex ? 2 : 1);
      if (digits === '' || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) fail();
      const code = parseInt(digits, hex ? 16 : 10);
      if (!isXmlChar(code)) fail();
      return utf8(code);
    }
    const replacement = PREDEFINED[body];
    if (replacement !== undefined) return replacement;
    i = start + 1;
    readName();
    if (i !== end) fail();
    i = end + 1;
    // An entity a DOCTYPE may declare is not expanded (no DTD processing): kept as written.
    if (!sawDoctype) fail();
    return data.slice(start, end + 1);
  };
  const skipComment = (): void => {
    const end = data.indexOf('--', i + 4);
    if (end === -1 || data.charCodeAt(end + 2) !== 0x3e) fail();
    i = end + 3;
  };
  const skipProcessingInstruction = (): void => {
    i += 2;
    const target = readName();
    if (target.toLowerCase() === 'xml') fail(); // a declaration anywhere but at the start
    const end = data.indexOf('?>', i);
    if (end === -1 || (end > i && !isSpace(data.charCodeAt(i)))) fail();
    i = end + 2;
  };
  const readQuoted = (): void => {
    const quote = data[i];
    if (quote !== '"' && quote !== "'") fail();
    const end = data.indexOf(quote, i + 1);
    if (end === -1) fail();
    i = end + 1;
  };
  const requireSpace = (): void => {
    if (!isSpace(data.charCodeAt(i))) fail();
    skipSpace();
  };
  // `SYSTEM "uri"` or `PUBLIC "id" "uri"` at i.
  const readExternalId = (): void => {
    if (data.startsWith('SYSTEM', i)) {
      i += 6;
      requireSpace();
      readQuoted();
    } else if (data.startsWith('PUBLIC', i)) {
      i += 6;
      requireSpace();
      readQuoted();
      requireSpace();
      readQuoted();
    } else {
      fail();
    }
  };
  // Checks the shape of the internal subset's declarations without acting on any.
  const skipInternalSubset = (): void => {
    for (;;) {
      skipSpace();
      if (i >= n) fail();
      const c = data.charCodeAt(i);
      if (c === 0x5d) {
        i++;
        return;
      }
      if (data.startsWith('<!--', i)) {
        skipComment();
      } else if (data.startsWith('<?', i)) {
        skipProcessingInstruction();
      } else if (c === 0x25) {
        i++;
        readName();
        if (data.charCodeAt(i) !== 0x3b) fail();
        i++;
      } else if (data.startsWith('<!ENTITY', i)) {
        i += 8;
        requireSpace();
        if (data.charCodeAt(i) === 0x25) {
          i++;
          requireSpace();
        }
        readName();
        requireSpace();
        if (data[i] === '"' || data[i] === "'") readQuoted();
        else readExternalId();
        skipSpace();
        if (data.startsWith('NDATA', i)) {
          i += 5;
          requireSpace();
          readName();
          skipSpace();
        }
        if (data.charCodeAt(i) !== 0x3e) fail();
        i++;
      } else if (data.startsWith('<!ELEMENT', i) || data.startsWith('<!ATTLIST', i) || data.startsWith('<!NOTATION', i)) {
        i += 2;
        readName();
        requireSpace();
        for (;;) {
          if (i >= n) fail();
          const d = data.charCodeAt(i);
          if (d === 0x3e) break;
          if (d === 0x3c) fail();
          if (d === 0x22 || d === 0x27) readQuoted();
          else i++;
        }
        i++;
      } else {
        fail();
      }
    }
  };
  // Skips `<!DOCTYPE name externalId? [subset]? >`; nothing declared is used.
  const skipDoctype = (): void => {
    i += 9;
    requireSpace();
    readName();
    skipSpace();
    if (data.startsWith('SYSTEM', i) || data.startsWith('PUBLIC', i)) {
      readExternalId();
      skipSpace();
    }
    if (data.charCodeAt(i) === 0x5b) {
      i++;
      skipInternalSubset();
      skipSpace();
    }
    if (data.charCodeAt(i) !== 0x3e) fail();
    i++;
  };
  // Reads a start tag at i ('<'): its attributes, then opens it unless it is empty (`/>`).
  const readStartTag = (): void => {
    i++;
    const name = readName();
    let attributeNames: Set<string> | undefined;
    for (;;) {
      const spaced = i < n && isSpace(data.charCodeAt(i));
      skipSpace();
      if (i >= n) fail();
      const c = data.charCodeAt(i);
      if (c === 0x3e) {
        i++;
        if (open.length >= depthLimit) fail();
        open.push(name);
        return;
      }
      if (c === 0x2f) {
        if (data.charCodeAt(i + 1) !== 0x3e) fail();
        i += 2;
        return;
      }
      if (!spaced) fail();
      const attribute = readName();
      attributeNames ??= new Set();
      if (attributeNames.has(attribute)) fail();
      attributeNames.add(attribute);
      skipSpace();
      if (data.charCodeAt(i) !== 0x3d) fail();
      i++;
      skipSpace();
      const quote = data.charCodeAt(i);
      if (quote !== 0x22 && quote !== 0x27) fail();
      const end = data.indexOf(quote === 0x22 ? '"' : "'", i + 1);
      if (end === -1) fail();
      let value = '';
      i++;
      while (i < end) {
        const amp = ampersandFrom(i);
        const runEnd = amp === -1 || amp > end ? end : amp;
        const run = data.slice(i, runEnd);
        if (run.includes('<')) fail();
        // Attribute-value normalization: a literal tab or newline is a space; a reference is not.
        value += run.replace(/[\t\n]/g, ' ');
        i = runEnd;
        if (i < end) {
          value += readReference();
          if (i > end + 1) fail();
        }
      }
      i = end + 1;
      if (attribute !== 'xmlns' && !attribute.startsWith('xmlns:')) result.attributeValues.push(value);
    }
  };

  // Prolog: the declaration, comments, processing instructions, one DOCTYPE.
  if (data.startsWith('<?xml') && isSpace(data.charCodeAt(5))) {
    const end = data.indexOf('?>');
    if (end === -1 || !XML_DECLARATION.test(data.slice(0, end))) fail();
    i = end + 2;
  }
  for (;;) {
    skipSpace();
    if (i >= n) fail(); // no root element
    if (data.startsWith('<!--', i)) skipComment();
    else if (data.startsWith('<?', i)) skipProcessingInstruction();
    else if (data.startsWith('<!DOCTYPE', i) && !sawDoctype) {
      skipDoctype();
      sawDoctype = true;
    } else if (data.charCodeAt(i) === 0x3c) break;
    else fail();
  }

  // The root element and its content.
  readStartTag();
  result.rootText = '';
  while (open.length > 0) {
    const lt = data.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    while (i < textEnd) {
      const amp = ampersandFrom(i);
      const runEnd = amp === -1 || amp > textEnd ? textEnd : amp;
      const run = data.slice(i, runEnd);
      if (run.includes(']]>')) fail();
      result.rootText += run;
      i = runEnd;
      if (i < textEnd) {
        result.rootText += readReference();
        if (i > textEnd) fail();
      }
    }
    if (i >= n) fail(); // unclosed elements
    if (data.charCodeAt(i + 1) === 0x2f) {
      i += 2;
      if (readName() !== open[open.length - 1]) fail();
      skipSpace();
      if (data.charCodeAt(i) !== 0x3e) fail();
      i++;
      open.pop();
    } else if (data.startsWith('<!--', i)) {
      skipComment();
    } else if (data.startsWith('<![CDATA[', i)) {
      const end = data.indexOf(']]>', i + 9);
      if (end === -1) fail();
      result.rootText += data.slice(i + 9, end);
      i = end + 3;
    } else if (data.charCodeAt(i + 1) === 0x3f) {
      skipProcessingInstruction();
    } else {
      readStartTag();
    }
  }

  // Epilog: nothing but whitespace, comments and processing instructions.
  for (;;) {
    skipSpace();
    if (i >= n) return;
    if (data.startsWith('<!--', i)) skipComment();
    else if (data.startsWith('<?', i)) skipProcessingInstruction();
    else fail();
  }
}
