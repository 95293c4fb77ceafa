// The suite's regular expressions (`log.match_regex`, `response_contains`, ...) are Go RE2
// syntax. This translates them to JavaScript RegExp with Go's meaning:
//   - leading `(?flags)` (i, m, s) become RegExp flags; `(?flags:...)` groups stay (V8 has them);
//   - `.` is "anything but \n" (JavaScript's also stops at \r, \u2028, \u2029);
//   - `\s` is Go's [\t\n\f\r ]; `\A`, `\z`, `\Q...\E`, `(?P<name>`, `\x{...}`, `[[:alpha:]]`;
//   - what RE2 rejects (look-around, back-references) is an error, as it is for go-ftw.
// Text is matched as UTF-8 decoded (invalid bytes become U+FFFD, as Go's regexp reads them).

export class GoRegexpError extends Error {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const GO_SPACE = '\\t\\n\\f\\r ';

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => '\\' + c);
}

function codePointEscape(hex: string): string {
  const cp = parseInt(hex, 16);
  if (Number.isNaN(cp) || cp > 0x10ffff) throw new GoRegexpError(`invalid escape \\x{${hex}}`);
  if (cp <= 0xffff) return '\\u' + cp.toString(16).padStart(4, '0');
  throw new GoRegexpError(`\\x{${hex}}: code points above U+FFFF are not supported by this runner`);
}

/** Translates a Go regular expression; throws GoRegexpError where Go's regexp.Compile fails (or for the unsupported). */
export function goRegexp(pattern: string): RegExp {
  let src = pattern;
  let flags = '';
  // Leading flag groups: (?i) (?s) (?m) (?is) ... ; (?U) (ungreedy) has no JavaScript form.
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(src);
    if (m === null) break;
    if (m[1]!.includes('U')) throw new GoRegexpError('the (?U) flag is not supported by this runner');
    for (const f of m[1]!) if (!flags.includes(f)) flags += f;
    src = src.slice(m[0].length);
  }
  const dotAll = flags.includes('s');
  const multiline = flags.includes('m');
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new GoRegexpError('trailing backslash at end of expression');
      i++;
      if (e === 'Q') {
        const end = src.indexOf('\\E', i + 1);
        const lit = end === -1 ? src.slice(i + 1) : src.slice(i + 1, end);
        out += inClass ? lit.replace(/[\\\]^-]/g, (x) => '\\' + x) : escapeLiteral(lit);
        i = end === -1 ? src.length : end + 1;
      } else if (e === 'A') {
        if (inClass) throw new GoRegexpError('invalid escape \\A in class');
        out += multiline ? '(?<![\\s\\S])' : '^';
      } else if (e === 'z') {
        if (inClass) throw new GoRegexpError('invalid escape \\z in class');
        out += multiline ? '(?![\\s\\S])' : '$';
      } else if (e === 's') {
        out += inClass ? GO_SPACE : `[${GO_SPACE}]`;
      } else if (e === 'S') {
        out += inClass ? '\\S' : `[^${GO_SPACE}]`;
      } else if (e === 'x' && src[i + 1] === '{') {
        const end = src.indexOf('}', i + 2);
        if (end === -1) throw new GoRegexpError('invalid escape \\x{');
        out += codePointEscape(src.slice(i + 2, end));
        i = end;
      } else if (e === 'p' || e === 'P') {
        throw new GoRegexpError('Unicode classes (\\p, \\P) are not supported by this runner');
      } else if (/[1-9]/.test(e)) {
        throw new GoRegexpError(`invalid escape sequence: \\${e} (no back-references in RE2)`);
      } else if (/[dDwWbBfnrtv.\\^$*+?()[\]{}|\-/]/.test(e) || !/[A-Za-z0-9]/.test(e)) {
        out += '\\' + e;
      } else if (e === 'x' || e === '0') {
        // \x41 or octal \0 / \012: the same in JavaScript (non-Unicode mode).
        out += '\\' + e;
      } else if (e === 'a') {
        out += '\\x07';
      } else {
        throw new GoRegexpError(`invalid escape sequence: \\${e}`);
      }
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        const name = end === -1 ? '' : src.slice(i + 2, end);
        const negated = name.startsWith('^');
        const cls = POSIX[negated ? name.slice(1) : name];
        if (cls === undefined) throw new GoRegexpError(`invalid character class range: [:${name}:]`);
        if (negated) throw new GoRegexpError('negated POSIX classes are not supported by this runner');
        out += cls;
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A ']' right after '[' or '[^' is a literal in RE2.
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named !== null) {
        out += `(?<${named[1]}>`;
        i += 1 + named[0].length;
        continue;
      }
      const flagGroup = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (flagGroup !== null && (flagGroup[1] !== '' || flagGroup[2] !== undefined || flagGroup[3] === ':')) {
        if (`${flagGroup[1]}${flagGroup[2] ?? ''}`.includes('U')) throw new GoRegexpError('the U flag is not supported by this runner');
        if (flagGroup[3] === ')') throw new GoRegexpError('flags in the middle of an expression, (?flags), are not supported by this runner; use (?flags:...)');
        out += `(?${flagGroup[0]}`;
        i += 1 + flagGroup[0].length;
        continue;
      }
      throw new GoRegexpError(`invalid or unsupported Perl syntax: (?${rest.slice(0, 2)}`);
    }
    if (c === '/') {
      out += '\\/';
      continue;
    }
    out += c;
  }
  if (inClass) throw new GoRegexpError('missing closing ]');
  const jsFlags = flags.replace('s', '');
  try {
    return new RegExp(out, jsFlags);
  } catch (err) {
    throw new GoRegexpError((err as Error).message);
  }
}
