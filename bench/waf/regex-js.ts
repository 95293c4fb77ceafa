// An @rx pattern (RE2 syntax, compiled with `s` and `m` on, matched over byte strings) as a
// JavaScript RegExp that matches the same byte strings, for V8's engines in bench/waf/regex.ts.
//
// - `(?i)` at the start becomes the `i` flag, elsewhere a `(?i:…)` modifier group up to the end
//   of the enclosing group. Or, with `expandCase`, no case flag at all: every ASCII letter becomes
//   a class of both cases (`s` → `[sS]`, `[a-f]` → `[a-fA-F]`), which is what RE2's `(?i)` means
//   on bytes — and what V8's linear engine needs, since it rejects the `i` flag and modifiers.
// - `\z` / `\A` become `(?-m:$)` / `(?-m:^)`; `\x{HH}` becomes `\xHH`; RE2's `\s` is
//   `[\t\n\f\r ]` (JavaScript's `\s` has \v, \xA0 and Unicode spaces too).
// - Differences left: JavaScript's multi-line `^`/`$` also break at \r (RE2's only at \n), its `i`
//   flag folds Latin-1 letters too (RE2 on bytes folds ASCII only), and `\S` inside a class keeps
//   JavaScript's meaning. Anything else RE2 has and JavaScript lacks
//   (`\Q…\E`, `\pL`, `[[:alpha:]]`, `(?U)`, …) throws: CRS does not use it.

export interface JsPattern {
  readonly source: string;
  readonly flags: string;
}

const RE2_SPACE = [0x09, 0x0a, 0x0c, 0x0d, 0x20];
const SYNTAX_CHARACTERS = new Set('^$.*+?|');
const CLASS_ESCAPES = new Set('dDwW');
const ASSERTION_ESCAPES = new Set('bB');
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b };

/** Throws Error naming the construct JavaScript has no equivalent for. */
export function toJavaScript(pattern: string, expandCase: boolean): JsPattern {
  return new Translation(pattern, expandCase).run();
}

interface Group {
  ignoreCase: boolean;
  /** `(?i:` groups opened by a `(?i)` inside this group, closed with it. */
  modifierGroups: number;
}

class Translation {
  private readonly pattern: string;
  private readonly expandCase: boolean;
  private at = 0;
  private out = '';
  private flags = 'sm';
  private readonly groups: Group[] = [{ ignoreCase: false, modifierGroups: 0 }];

  constructor(pattern: string, expandCase: boolean) {
    this.pattern = pattern;
    this.expandCase = expandCase;
  }

  run(): JsPattern {
    while (this.at < this.pattern.length) {
      const c = this.pattern[this.at];
      if (c === '\\') this.escape();
      else if (c === '[') this.bracketClass();
      else if (c === '(') this.openGroup();
      else if (c === ')') this.closeGroup();
      else if (c === '{' && this.counted()) continue;
      else {
        this.at++;
        this.out += SYNTAX_CHARACTERS.has(c) ? c : this.literal(c.charCodeAt(0));
      }
    }
    if (this.groups.length !== 1) throw new Error('unclosed group');
    this.out += ')'.repeat(this.group.modifierGroups);
    return { source: this.out, flags: this.flags };
  }

  /** A `{n}`, `{n,}` or `{n,m}` repetition at `at`, copied; false when the `{` is a literal. */
  private counted(): boolean {
    const repetition = /^\{\d+(?:,\d*)?\}/.exec(this.pattern.slice(this.at, this.at + 24));
    if (repetition === null) return false;
    this.out += repetition[0];
    this.at += repetition[0].length;
    return true;
  }

  private get group(): Group {
    return this.groups[this.groups.length - 1];
  }

  private literal(code: number): string {
    if (this.group.ignoreCase && this.expandCase && isAsciiLetter(code)) return `[${classMember(code)}${classMember(code ^ 0x20)}]`;
    return classMember(code);
  }

  private escape(): void {
    const letter = this.pattern[this.at + 1];
    if (letter === 'x') {
      this.out += this.literal(this.hexEscape());
      return;
    }
    this.at += 2;
    if (letter === 'z') this.out += '(?-m:$)';
    else if (letter === 'A') this.out += '(?-m:^)';
    else if (letter === 's') this.out += `[${RE2_SPACE.map(classMember).join('')}]`;
    else if (letter === 'S') this.out += `[^${RE2_SPACE.map(classMember).join('')}]`;
    else if (CLASS_ESCAPES.has(letter) || ASSERTION_ESCAPES.has(letter)) this.out += `\\${letter}`;
    else if (letter in CONTROL_ESCAPES) this.out += classMember(CONTROL_ESCAPES[letter]);
    else if (letter !== undefined && !/[0-9A-Za-z]/.test(letter)) this.out += classMember(letter.charCodeAt(0));
    else throw new Error(`unsupported escape \\${letter ?? ''}`);
  }

  /** `\xHH` or `\x{H…}` at `at`: its byte value. */
  private hexEscape(): number {
    const match = /^\\x(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))/.exec(this.pattern.slice(this.at, this.at + 13));
    if (match === null) throw new Error('malformed \\x escape');
    const code = parseInt(match[1] ?? match[2], 16);
    if (code > 0xff) throw new Error(`\\x{${match[1]}} is not a byte`);
    this.at += match[0].length;
    return code;
  }

  private openGroup(): void {
    const flags = /^\(\?([imsU-]+)([:)])/.exec(this.pattern.slice(this.at, this.at + 12));
    if (flags === null) {
      const plain = /^\((?:\?:)?/.exec(this.pattern.slice(this.at))![0];
      if (this.pattern[this.at + plain.length] === '?') throw new Error(`unsupported group ${this.pattern.slice(this.at, this.at + 4)}`);
      this.at += plain.length;
      this.out += plain;
      this.groups.push({ ignoreCase: this.group.ignoreCase, modifierGroups: 0 });
      return;
    }
    this.at += flags[0].length;
    const ignoreCase = this.ignoreCaseAfter(flags[1]);
    if (flags[2] === ':') {
      this.groups.push({ ignoreCase, modifierGroups: 0 });
      this.out += this.expandCase || ignoreCase === this.group.ignoreCase ? '(?:' : ignoreCase ? '(?i:' : '(?-i:';
      return;
    }
    const changed = ignoreCase !== this.group.ignoreCase;
    this.group.ignoreCase = ignoreCase;
    if (!changed || this.expandCase) return;
    if (this.groups.length === 1 && this.out === '' && ignoreCase) {
      this.flags += 'i';
    } else {
      this.out += ignoreCase ? '(?i:' : '(?-i:';
      this.group.modifierGroups++;
    }
  }

  /** The case flag after applying `(?flags)`; `s` and `m` are on already and may not be turned off. */
  private ignoreCaseAfter(settings: string): boolean {
    let ignoreCase = this.group.ignoreCase;
    let on = true;
    for (const flag of settings) {
      if (flag === '-') on = false;
      else if (flag === 'i') ignoreCase = on;
      else if (flag === 'U' || !on) throw new Error(`unsupported flag setting (?${settings})`);
    }
    return ignoreCase;
  }

  private closeGroup(): void {
    if (this.groups.length === 1) throw new Error('unopened )');
    this.at++;
    this.out += `${')'.repeat(this.group.modifierGroups)})`;
    this.groups.pop();
  }

  private bracketClass(): void {
    this.at++;
    let out = '[';
    if (this.pattern[this.at] === '^') {
      out += '^';
      this.at++;
    }
    const ranges: [number, number][] = [];
    for (let first = true; first || this.pattern[this.at] !== ']'; first = false) {
      if (this.at >= this.pattern.length) throw new Error('unclosed [');
      const c = this.pattern[this.at];
      if (c === '[' && this.pattern[this.at + 1] === ':') throw new Error('unsupported POSIX class');
      if (c === '\\' && CLASS_ESCAPES.has(this.pattern[this.at + 1])) {
        out += this.pattern.slice(this.at, this.at + 2);
        this.at += 2;
      } else if (c === '\\' && this.pattern[this.at + 1] === 'S') {
        out += '\\S';
        this.at += 2;
      } else if (c === '\\' && this.pattern[this.at + 1] === 's') {
        for (const code of RE2_SPACE) ranges.push([code, code]);
        this.at += 2;
      } else {
        const lo = this.classCharacter();
        if (this.pattern[this.at] === '-' && this.pattern[this.at + 1] !== ']' && this.at + 1 < this.pattern.length) {
          this.at++;
          ranges.push([lo, this.classCharacter()]);
        } else {
          ranges.push([lo, lo]);
        }
      }
    }
    this.at++;
    if (this.group.ignoreCase && this.expandCase) ranges.push(...otherCase(ranges));
    for (const [lo, hi] of ranges) out += lo === hi ? classMember(lo) : `${classMember(lo)}-${classMember(hi)}`;
    this.out += `${out}]`;
  }

  /** One character of a bracket class (a literal or an escape for one): its byte value. */
  private classCharacter(): number {
    const c = this.pattern[this.at];
    if (c !== '\\') {
      this.at++;
      return c.charCodeAt(0);
    }
    const letter = this.pattern[this.at + 1];
    if (letter === 'x') return this.hexEscape();
    this.at += 2;
    if (letter in CONTROL_ESCAPES) return CONTROL_ESCAPES[letter];
    if (letter !== undefined && !/[0-9A-Za-z]/.test(letter)) return letter.charCodeAt(0);
    throw new Error(`unsupported escape \\${letter ?? ''} in a class`);
  }
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** The ASCII letters of `ranges` in the other case, as ranges. */
function otherCase(ranges: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    for (const [start, end] of [
      [0x41, 0x5a],
      [0x61, 0x7a],
    ]) {
      const from = Math.max(lo, start);
      const to = Math.min(hi, end);
      if (from <= to) out.push([from ^ 0x20, to ^ 0x20]);
    }
  }
  return out;
}

/** A byte as it can be written anywhere, inside a class or out: itself if alphanumeric, else `\xHH`. */
function classMember(code: number): string {
  return /[0-9A-Za-z]/.test(String.fromCharCode(code)) ? String.fromCharCode(code) : `\\x${code.toString(16).padStart(2, '0')}`;
}
