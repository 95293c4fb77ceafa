// SecLang operators, compiled once per rule: each becomes `(value, state) => matched`. Arguments
// with macros (`@eq %{tx.x}`, `@within %{tx.allowed_methods}`) are expanded per call; everything
// else (regexes, phrase sets, IP ranges, byte ranges) is prepared at load time.
import { compareIp, parseIp, prefixRange } from '../rules/ip.ts';
import { MultiSearch } from '../rules/multi-search.ts';
import { asciiLowercase, type Ip } from '../rules/values.ts';
import { detectSqli, detectXss } from './libinjection/index.ts';
import { compileMacro, type Macro, type MacroResolver } from './macro.ts';
import { operatorRegex } from './regex.ts';

/** What an operator may touch in the transaction while it runs. */
export interface OperatorState {
  /** The rule has `capture`: operators that capture set TX:0..9 through `capture`. */
  readonly capturing: boolean;
  capture(index: number, value: string): void;
  readonly resolve: MacroResolver;
}

export type Operator = (value: string, state: OperatorState) => boolean;

export interface OperatorContext {
  /** Reads a data file (@pmFromFile, @ipMatchFromFile) named relative to the rule's file; latin1 text. */
  readFile(name: string): string;
}

export interface CompiledOperator {
  readonly test: Operator;
  /**
   * Literals (A–Z as a–z) of which a value must contain one, ignoring ASCII case, for the operator
   * to match; undefined when there are none to search for (see prefilter.ts).
   */
  readonly requiredLiterals: readonly string[] | undefined;
  /**
   * Names what the operator computes when its result (and what it captures) depends on the value alone and
   * is worth remembering per value (see value-memo.ts): equal for equal operators; undefined otherwise.
   */
  readonly resultKey: string | undefined;
}

/** Compiles `@name argument`; throws Error with the reason for an unknown operator or a bad argument. */
export function compileOperator(name: string, argument: string, context: OperatorContext): CompiledOperator {
  switch (name) {
    case 'rx': {
      const macro = argument.includes('%{');
      return { test: rx(argument), requiredLiterals: macro ? undefined : operatorRegex(argument).requiredLiterals, resultKey: macro ? undefined : `rx ${argument}` };
    }
    case 'pm':
      return phrases(argument.split(/[ \t]+/).filter((phrase) => phrase.length > 0), `pm ${argument}`);
    case 'pmf':
    case 'pmfromfile':
      return phrases(argument.split(/[ \t]+/).filter((file) => file.length > 0).flatMap((file) => dataLines(context.readFile(file))), undefined);
    default:
      return { test: plainOperator(name, argument, context), requiredLiterals: undefined, resultKey: SCANNING.has(name) ? `${name} ${argument}` : undefined };
  }
}

/** Operators without macros that read the whole value (the cheap comparisons are not worth remembering). */
const SCANNING = new Set(['detectsqli', 'detectxss', 'validatebyterange', 'validateurlencoding', 'validateutf8encoding']);

function plainOperator(name: string, argument: string, context: OperatorContext): Operator {
  switch (name) {
    case 'streq':
      return withArgument(argument, (value, arg) => value === arg);
    case 'contains':
      return withArgument(argument, (value, arg) => value.includes(arg));
    case 'containsword':
      return withArgument(argument, containsWord);
    case 'beginswith':
      return withArgument(argument, (value, arg) => value.startsWith(arg));
    case 'endswith':
      return withArgument(argument, (value, arg) => value.endsWith(arg));
    case 'within':
      return withArgument(argument, (value, arg) => arg.includes(value));
    case 'eq':
      return numeric(argument, (a, b) => a === b);
    case 'ge':
      return numeric(argument, (a, b) => a >= b);
    case 'gt':
      return numeric(argument, (a, b) => a > b);
    case 'le':
      return numeric(argument, (a, b) => a <= b);
    case 'lt':
      return numeric(argument, (a, b) => a < b);
    case 'ipmatch':
      return ipMatch(argument.split(/[ \t,]+/).filter((item) => item.length > 0));
    case 'ipmatchf':
    case 'ipmatchfromfile':
      return ipMatch(dataLines(context.readFile(argument)));
    case 'validatebyterange':
      return validateByteRange(argument);
    case 'validateurlencoding':
      return (value) => !validUrlEncoding(value);
    case 'validateutf8encoding':
      return (value) => !validUtf8(value);
    case 'detectsqli':
      return (value, state) => {
        const result = detectSqli(value);
        if (result.sqli && state.capturing && result.fingerprint !== null) state.capture(0, result.fingerprint);
        return result.sqli;
      };
    case 'detectxss':
      return (value) => detectXss(value);
    case 'unconditionalmatch':
      return () => true;
    case 'nomatch':
      return () => false;
    default:
      throw new Error(`unsupported operator @${name}`);
  }
}

function rx(pattern: string): Operator {
  if (pattern.includes('%{')) {
    const macro = compileMacro(pattern);
    return (value, state) => matchRegex(operatorRegex(macro.expand(state.resolve)), value, state);
  }
  const regex = operatorRegex(pattern);
  return (value, state) => matchRegex(regex, value, state);
}

function matchRegex(regex: ReturnType<typeof operatorRegex>, value: string, state: OperatorState): boolean {
  if (!state.capturing) return regex.test(value);
  if (!regex.test(value)) return false;
  const groups = regex.captures(value);
  if (groups === null) return false;
  // TX:0 is the whole match, TX:1..9 the groups; groups that did not take part are empty.
  for (let i = 0; i <= 9 && i <= regex.groupCount; i++) {
    const start = groups[2 * i];
    state.capture(i, start === -1 ? '' : value.slice(start, groups[2 * i + 1]));
  }
  return true;
}

let phraseFileSets = 0;

/**
 * @pm: case-insensitive phrases anywhere in the value, all in one automaton pass. The phrases are
 * also the rule's required literals: the prefilter's one scan per value then decides, for every
 * phrase set at once, that most values hold none, and this automaton runs only on values that do.
 */
function phrases(list: readonly string[], resultKey: string | undefined): CompiledOperator {
  const lowered = list.map(asciiLowercase);
  const search = new MultiSearch(lowered, { foldAscii: true });
  const test: Operator = (value, state) => {
    const found = search.firstMatch(value);
    if (found === -1) return false;
    if (state.capturing) state.capture(0, lowered[found]);
    return true;
  };
  // Phrase files are read relative to each rule's file: equal arguments need not be equal lists, so each rule has a key of its own.
  return { test, requiredLiterals: lowered.length > 0 ? lowered : undefined, resultKey: resultKey ?? `pm#${++phraseFileSets}` };
}

/** Lines of a data file: trimmed, without empty lines and `#` comments. */
function dataLines(text: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length > 0 && !line.startsWith('#')) lines.push(line);
  }
  return lines;
}

function withArgument(argument: string, test: (value: string, argument: string) => boolean): Operator {
  const macro: Macro = compileMacro(argument);
  const constant = macro.constant;
  if (constant !== undefined) return (value) => test(value, constant);
  return (value, state) => test(value, macro.expand(state.resolve));
}

/** Numbers as ModSecurity reads them: a leading integer, else 0. */
function toInteger(text: string): number {
  const n = parseInt(text, 10);
  return Number.isNaN(n) ? 0 : n;
}

function numeric(argument: string, compare: (value: number, argument: number) => boolean): Operator {
  const macro = compileMacro(argument);
  if (macro.constant !== undefined) {
    const constant = toInteger(macro.constant);
    return (value) => compare(toInteger(value), constant);
  }
  return (value, state) => compare(toInteger(value), toInteger(macro.expand(state.resolve)));
}

function isWordByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function containsWord(value: string, word: string): boolean {
  if (word.length === 0) return true;
  for (let at = value.indexOf(word); at !== -1; at = value.indexOf(word, at + 1)) {
    const before = at === 0 ? -1 : value.charCodeAt(at - 1);
    const after = at + word.length >= value.length ? -1 : value.charCodeAt(at + word.length);
    if ((before === -1 || !isWordByte(before)) && (after === -1 || !isWordByte(after))) return true;
  }
  return false;
}

/** @validateByteRange 9,10,13,32-126: matches when a byte falls outside every range. */
function validateByteRange(argument: string): Operator {
  const allowed = new Uint8Array(256);
  for (const part of argument.split(',')) {
    const item = part.trim();
    if (item.length === 0) continue;
    const dash = item.indexOf('-');
    const start = Number(dash === -1 ? item : item.slice(0, dash));
    const end = Number(dash === -1 ? item : item.slice(dash + 1));
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > 255 || start > end) {
      throw new Error(`@validateByteRange: "${item}" is not a byte or a range of bytes (0-255)`);
    }
    allowed.fill(1, start, end + 1);
  }
  return (value) => {
    for (let i = 0; i < value.length; i++) if (allowed[value.charCodeAt(i) & 0xff] === 0) return true;
    return false;
  };
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Every `%` is followed by two hex digits. */
function validUrlEncoding(value: string): boolean {
  for (let at = value.indexOf('%'); at !== -1; at = value.indexOf('%', at + 1)) {
    if (at + 2 >= value.length || !isHex(value.charCodeAt(at + 1)) || !isHex(value.charCodeAt(at + 2))) return false;
  }
  return true;
}

/** Well-formed UTF-8: no stray continuation bytes, no truncated or overlong sequences, no surrogates, ≤ U+10FFFF. */
function validUtf8(value: string): boolean {
  for (let i = 0; i < value.length; ) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min, cp] = [1, 0x80, c & 0x1f];
    else if (c >= 0xe0 && c <= 0xef) [need, min, cp] = [2, 0x800, c & 0x0f];
    else if (c >= 0xf0 && c <= 0xf4) [need, min, cp] = [3, 0x10000, c & 0x07];
    else return false;
    if (i + need >= value.length) return false;
    for (let k = 1; k <= need; k++) {
      const next = value.charCodeAt(i + k);
      if ((next & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (next & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** @ipMatch: IPv4/IPv6 addresses and CIDR blocks (host bits ignored, as ModSecurity masks them). */
function ipMatch(items: readonly string[]): Operator {
  const ranges: [Ip, Ip][] = [];
  for (const item of items) {
    const slash = item.indexOf('/');
    const ip = parseIp(slash === -1 ? item : item.slice(0, slash));
    const bits = slash === -1 ? undefined : Number(item.slice(slash + 1));
    const full = ip?.family === 4 ? 32 : 128;
    if (ip === undefined || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= full))) {
      throw new Error(`@ipMatch: "${item}" is not an IP address or CIDR block`);
    }
    ranges.push(prefixRange(ip, bits ?? full));
  }
  return (value) => {
    const ip = parseIp(value);
    if (ip === undefined) return false;
    for (const [start, end] of ranges) {
      const low = compareIp(ip, start);
      if (low !== undefined && low >= 0 && compareIp(ip, end)! <= 0) return true;
    }
    return false;
  };
}
