// go-ftw runs a stage's `data` through Go's text/template with the sprig function map, and
// sends no body at all when the template does not parse or fails to execute. CRS uses it for
// large bodies (`{{ "1" | repeat 64200 }}`). This evaluates the part of the language such
// bodies need: text, comments, trim markers, pipelines of literals and functions.
//
// Values are byte strings (one char per byte, as Go strings are bytes), so that `b64dec` and
// `\xHH` escapes give exact bytes; the result is returned as a Buffer.

/** The template does not parse or fails to run: go-ftw then sends no body. */
export class TemplateError extends Error {}
/** Valid Go template, but something this evaluator does not implement. */
export class TemplateUnsupported extends Error {}

type Value = string | number | boolean | null;

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'ident'; v: string }
  | { t: 'dot' }
  | { t: 'pipe' }
  | { t: 'lparen' }
  | { t: 'rparen' }
  | { t: 'other'; v: string };

const utf8ToBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const bytesToUtf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8');

/** A Go interpreted string literal (`"..."`) starting at `i`; returns its bytes and the end. */
function goQuoted(src: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  while (j < src.length) {
    const c = src[j]!;
    if (c === '"') return [out, j + 1];
    if (c === '\n') break;
    if (c !== '\\') {
      out += utf8ToBytes(c);
      j++;
      continue;
    }
    const e = src[j + 1];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (e !== undefined && e in simple) {
      out += simple[e];
      j += 2;
    } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(j + 2, j + 4))) {
      out += String.fromCharCode(parseInt(src.slice(j + 2, j + 4), 16));
      j += 4;
    } else if (e !== undefined && /^[0-7]{3}$/.test(src.slice(j + 1, j + 4)) && parseInt(src.slice(j + 1, j + 4), 8) < 256) {
      out += String.fromCharCode(parseInt(src.slice(j + 1, j + 4), 8));
      j += 4;
    } else if ((e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(j + 2, j + 6))) || (e === 'U' && /^[0-9a-fA-F]{8}$/.test(src.slice(j + 2, j + 10)))) {
      const len = e === 'u' ? 4 : 8;
      const cp = parseInt(src.slice(j + 2, j + 2 + len), 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new TemplateError('invalid escape in string literal');
      out += utf8ToBytes(String.fromCodePoint(cp));
      j += 2 + len;
    } else {
      throw new TemplateError('invalid escape in string literal');
    }
  }
  throw new TemplateError('unterminated quoted string');
}

function lexAction(body: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      const [v, end] = goQuoted(body, i);
      tokens.push({ t: 'str', v });
      i = end;
    } else if (c === '`') {
      const end = body.indexOf('`', i + 1);
      if (end === -1) throw new TemplateError('unterminated raw quoted string');
      tokens.push({ t: 'str', v: utf8ToBytes(body.slice(i + 1, end)) });
      i = end + 1;
    } else if (/[-+0-9]/.test(c) && /^[-+]?[0-9]/.test(body.slice(i))) {
      const m = /^[-+]?(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9_]+)(?![.eEpPi])/.exec(body.slice(i));
      if (m === null) throw new TemplateUnsupported(`number ${JSON.stringify(body.slice(i, i + 12))}`);
      const text = m[0].replace(/_/g, '');
      const sign = text.startsWith('-') ? -1 : 1;
      const digits = text.replace(/^[-+]/, '');
      const n = digits.startsWith('0x') ? parseInt(digits.slice(2), 16) : digits.startsWith('0o') ? parseInt(digits.slice(2), 8) : digits.startsWith('0b') ? parseInt(digits.slice(2), 2) : /^0[0-7]+$/.test(digits) ? parseInt(digits, 8) : Number(digits);
      tokens.push({ t: 'num', v: sign * n });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i))!;
      tokens.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else if (c === '.' && !/[A-Za-z_]/.test(body[i + 1] ?? '')) {
      tokens.push({ t: 'dot' });
      i++;
    } else if (c === '|') {
      tokens.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      tokens.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      tokens.push({ t: 'rparen' });
      i++;
    } else {
      // Fields (.Foo), variables ($x), declarations (:=), chars ('x'): not needed by CRS.
      tokens.push({ t: 'other', v: c });
      i++;
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function print(v: Value): string {
  if (v === null) return '<no value>';
  if (typeof v === 'string') return v;
  return String(v);
}

function needString(v: Value, fn: string): string {
  if (typeof v !== 'string') throw new TemplateError(`${fn}: wrong type for value; expected string`);
  return v;
}

function needInt(v: Value, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TemplateError(`${fn}: wrong type for value; expected int`);
  return v;
}

function goPrintf(format: string, args: Value[]): string {
  let out = '';
  let a = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const verb = format[++i];
    if (verb === '%') out += '%';
    else if (verb === 's' || verb === 'v' || verb === 'd') out += a < args.length ? print(args[a++]!) : `%!${verb}(MISSING)`;
    else if (verb === 'q') out += a < args.length ? JSON.stringify(print(args[a++]!)) : '%!q(MISSING)';
    else throw new TemplateUnsupported(`printf verb %${verb ?? ''}`);
  }
  return out;
}

/** The functions this evaluator runs (sprig's and text/template's built-ins by those names). */
const FUNCS: Record<string, (args: Value[]) => Value> = {
  repeat: ([count, s, ...rest]) => {
    if (rest.length > 0 || s === undefined) throw new TemplateError('repeat: wrong number of args');
    const n = needInt(count ?? null, 'repeat');
    if (n < 0) throw new TemplateError('repeat: negative count');
    return needString(s, 'repeat').repeat(n);
  },
  upper: ([s]) => utf8ToBytes(bytesToUtf8(needString(s ?? null, 'upper')).toUpperCase()),
  lower: ([s]) => utf8ToBytes(bytesToUtf8(needString(s ?? null, 'lower')).toLowerCase()),
  trim: ([s]) => needString(s ?? null, 'trim').replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, ''),
  cat: (args) => args.filter((x) => x !== null).map(print).join(' '),
  replace: ([from, to, s]) => needString(s ?? null, 'replace').split(needString(from ?? null, 'replace')).join(needString(to ?? null, 'replace')),
  quote: (args) => args.filter((x) => x !== null).map((x) => JSON.stringify(print(x))).join(' '),
  squote: (args) => args.filter((x) => x !== null).map((x) => `'${print(x)}'`).join(' '),
  b64enc: ([s]) => Buffer.from(needString(s ?? null, 'b64enc'), 'latin1').toString('base64'),
  b64dec: ([s]) => Buffer.from(needString(s ?? null, 'b64dec'), 'base64').toString('latin1'),
  print: (args) => args.map(print).join(''),
  println: (args) => args.map(print).join(' ') + '\n',
  printf: ([format, ...args]) => goPrintf(needString(format ?? null, 'printf'), args),
  len: ([s]) => needString(s ?? null, 'len').length,
};

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  pipeline(): Value {
    let value: Value | undefined;
    for (;;) {
      value = this.command(value);
      const next = this.tokens[this.pos];
      if (next === undefined || next.t === 'rparen') return value;
      if (next.t !== 'pipe') throw new TemplateError('unexpected token in pipeline');
      this.pos++;
    }
  }

  private operand(): Value {
    const tok = this.tokens[this.pos++];
    if (tok === undefined) throw new TemplateError('missing value for command');
    switch (tok.t) {
      case 'str':
      case 'num':
        return tok.v;
      case 'dot':
        return null;
      case 'lparen': {
        const v = this.pipeline();
        if (this.tokens[this.pos++]?.t !== 'rparen') throw new TemplateError('unclosed left paren');
        return v;
      }
      case 'ident':
        if (tok.v === 'true' || tok.v === 'false') return tok.v === 'true';
        if (tok.v === 'nil') throw new TemplateError('nil is not a command');
        return this.call(tok.v, []);
      default:
        throw new TemplateUnsupported(`template syntax ${JSON.stringify(tok.t === 'other' ? tok.v : tok.t)}`);
    }
  }

  private call(name: string, args: Value[]): Value {
    if (KEYWORDS.has(name)) throw new TemplateUnsupported(`template action "${name}"`);
    const fn = FUNCS[name];
    if (fn === undefined) throw new TemplateUnsupported(`template function "${name}"`);
    return fn(args);
  }

  /** One command; `piped` is the previous command's value, passed as the last argument. */
  private command(piped: Value | undefined): Value {
    const first = this.tokens[this.pos];
    if (first === undefined || first.t === 'pipe') throw new TemplateError('missing command');
    if (first.t === 'ident' && first.v !== 'true' && first.v !== 'false' && first.v !== 'nil') {
      this.pos++;
      const args: Value[] = [];
      while (this.pos < this.tokens.length && this.tokens[this.pos]!.t !== 'pipe' && this.tokens[this.pos]!.t !== 'rparen') {
        args.push(this.operand());
      }
      if (piped !== undefined) args.push(piped);
      return this.call(first.v, args);
    }
    const v = this.operand();
    if (this.pos < this.tokens.length && this.tokens[this.pos]!.t !== 'pipe' && this.tokens[this.pos]!.t !== 'rparen') {
      throw new TemplateError('can\'t give argument to non-function');
    }
    if (piped !== undefined) throw new TemplateError('can\'t give argument to non-function');
    return v;
  }

  done(): boolean {
    return this.pos >= this.tokens.length;
  }
}

/** Runs `source` as go-ftw does with `data`; throws TemplateError / TemplateUnsupported. */
export function executeGoTemplate(source: string): Buffer {
  let out = '';
  let i = 0;
  let trimNext = false;
  while (i <= source.length) {
    const open = source.indexOf('{{', i);
    let text = open === -1 ? source.slice(i) : source.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open === -1) {
      out += utf8ToBytes(text);
      break;
    }
    let bodyStart = open + 2;
    // "{{- " trims the white space before the action.
    if (source[bodyStart] === '-' && /[ \t\r\n]/.test(source[bodyStart + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      bodyStart += 2;
    }
    out += utf8ToBytes(text);
    // Find the closing delimiter, skipping over quoted strings.
    let j = bodyStart;
    let close = -1;
    while (j < source.length) {
      const c = source[j]!;
      if (c === '"') j = goQuoted(source, j)[1];
      else if (c === '`') {
        const end = source.indexOf('`', j + 1);
        if (end === -1) throw new TemplateError('unterminated raw quoted string');
        j = end + 1;
      } else if (source.startsWith('}}', j)) {
        close = j;
        break;
      } else j++;
    }
    if (close === -1) throw new TemplateError('unclosed action');
    let body = source.slice(bodyStart, close);
    trimNext = false;
    // " -}}" trims the white space after the action.
    if (/[ \t\r\n]-$/.test(body)) {
      body = body.slice(0, -2);
      trimNext = true;
    }
    i = close + 2;
    const trimmed = body.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw new TemplateError('unclosed comment');
      continue;
    }
    const tokens = lexAction(body);
    if (tokens.length === 0) throw new TemplateError('missing value for command');
    const parser = new Parser(tokens);
    const value = parser.pipeline();
    if (!parser.done()) throw new TemplateError('unexpected ")" in command');
    out += print(value);
  }
  return Buffer.from(out, 'latin1');
}
