// The parser (SPEC.md 3, 4, 6): expression text → type-checked AST, or a RuleParseError whose
// category, span and details match the reference engine's. It is a recursive descent over UTF-16
// positions in the original text; spans are converted to UTF-8 bytes only when an error is made.
// Where the reference engine tries alternatives (function arguments) the same order is kept,
// because the order decides which error a malformed expression reports.
import type {
  BytesLiteral,
  CallArg,
  Comparison,
  FilterAst,
  FunctionCall,
  Index,
  IndexExpr,
  IntLiteral,
  IpLiteral,
  Literal,
  LogicalExpr,
  LogicalOp,
  OrderingOp,
  QuantifierArg,
  SetElement,
} from './ast.ts';
import { RuleParseError, type ErrorCategory, type ErrorDetail } from './errors.ts';
import type { FunctionDefinition, Param } from './function.ts';
import { compareIp, hexDigit, parseIp, prefixRange } from './ip.ts';
import { compileRegex, RegexSyntaxError, type Regex } from './regex/index.ts';
import type { Field, Scheme } from './scheme.ts';
import { arrayOf, decodeUtf8, elementType, isUnicodeWhiteSpace, INT64_MAX, INT64_MIN, isArrayType, normalizeInt, utf8Bytes, type Bytes, type Int, type Ip, type Type } from './values.ts';
import { compileWildcard, WildcardSyntaxError } from './wildcard.ts';

export interface ParserSettings {
  /** Maximum depth of parentheses, negations, quantifiers and calls (default 128). */
  readonly maxNestingDepth?: number;
  /** Maximum number of `*` in a wildcard pattern (default unlimited). */
  readonly wildcardStarLimit?: number | null;
  /** Maximum expression length in characters (default 4,096). */
  readonly maxExpressionLength?: number;
  /** Compiled-size budget of one regex (default 10 MiB). */
  readonly regexSizeLimit?: number;
}

/** Parses and type-checks a filter expression against a scheme. Throws RuleParseError. */
export function parse(scheme: Scheme, text: string, settings: ParserSettings = {}): FilterAst {
  return new Parser(scheme, text, settings).filter();
}

/** An error while lexing: the category and the UTF-16 range [from, to) it points at. */
class LexFailure {
  readonly category: ErrorCategory;
  readonly reason: string;
  readonly detail: ErrorDetail;
  readonly from: number;
  readonly to: number;
  constructor(category: ErrorCategory, reason: string, detail: ErrorDetail, from: number, to: number) {
    this.category = category;
    this.reason = reason;
    this.detail = detail;
    this.from = from;
    this.to = to;
  }
}

const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;

const LOGICAL_TOKENS: readonly (readonly [string, LogicalOp])[] = [
  ['or', 'Or'],
  ['||', 'Or'],
  ['xor', 'Xor'],
  ['^^', 'Xor'],
  ['and', 'And'],
  ['&&', 'And'],
];
const PRECEDENCE: Readonly<Record<LogicalOp, number>> = { Or: 0, Xor: 1, And: 2 };
const NO_OPERATOR = -1;

type ComparisonToken =
  | { readonly kind: 'in' }
  | { readonly kind: 'ordering'; readonly op: OrderingOp }
  | { readonly kind: 'bitwise' }
  | { readonly kind: 'bytes'; readonly op: 'Contains' | 'Matches' | 'Wildcard' | 'Strict Wildcard' };

// The reference engine tries the tokens in this order, each as a prefix.
const COMPARISON_TOKENS: readonly (readonly [string, ComparisonToken])[] = [
  ['in', { kind: 'in' }],
  ['eq', { kind: 'ordering', op: 'Equal' }],
  ['==', { kind: 'ordering', op: 'Equal' }],
  ['ne', { kind: 'ordering', op: 'NotEqual' }],
  ['!=', { kind: 'ordering', op: 'NotEqual' }],
  ['ge', { kind: 'ordering', op: 'GreaterThanEqual' }],
  ['>=', { kind: 'ordering', op: 'GreaterThanEqual' }],
  ['le', { kind: 'ordering', op: 'LessThanEqual' }],
  ['<=', { kind: 'ordering', op: 'LessThanEqual' }],
  ['gt', { kind: 'ordering', op: 'GreaterThan' }],
  ['>', { kind: 'ordering', op: 'GreaterThan' }],
  ['lt', { kind: 'ordering', op: 'LessThan' }],
  ['<', { kind: 'ordering', op: 'LessThan' }],
  ['&', { kind: 'bitwise' }],
  ['bitwise_and', { kind: 'bitwise' }],
  ['contains', { kind: 'bytes', op: 'Contains' }],
  ['~', { kind: 'bytes', op: 'Matches' }],
  ['matches', { kind: 'bytes', op: 'Matches' }],
  ['wildcard', { kind: 'bytes', op: 'Wildcard' }],
  ['strict wildcard', { kind: 'bytes', op: 'Strict Wildcard' }],
];

const BOOL_ARRAY: Type = 'Array<Bool>';

class Parser {
  readonly #scheme: Scheme;
  readonly #src: string;
  readonly #maxDepth: number;
  readonly #starLimit: number | null;
  readonly #maxLength: number;
  readonly #regexSizeLimit: number | undefined;
  /** End of the trimmed expression: nothing at or after it is input. */
  #end = 0;

  constructor(scheme: Scheme, src: string, settings: ParserSettings) {
    this.#scheme = scheme;
    this.#src = src;
    this.#maxDepth = settings.maxNestingDepth ?? 128;
    this.#starLimit = settings.wildcardStarLimit ?? null;
    this.#maxLength = settings.maxExpressionLength ?? 4096;
    this.#regexSizeLimit = settings.regexSizeLimit;
  }

  filter(): FilterAst {
    const src = this.#src;
    try {
      let characters = 0;
      for (const _ of src) characters++;
      if (characters > this.#maxLength) {
        throw this.#fail('expression_too_long', `the expression has ${characters} characters; the limit is ${this.#maxLength}`, {}, 0, src.length);
      }
      let start = 0;
      let end = src.length;
      while (start < end && isUnicodeWhiteSpace(src.charCodeAt(start))) start++;
      while (end > start && isUnicodeWhiteSpace(src.charCodeAt(end - 1))) end--;
      this.#end = end;
      const [root, rest] = this.#logical(start, 0);
      if (root.type !== 'Bool') {
        throw this.#fail('type_mismatch', `the expression has type ${root.type}; a filter must be Bool`, { expected: ['Bool'], actual: root.type }, rest, end);
      }
      if (rest !== end) throw this.#unrecognised(rest);
      return { root };
    } catch (error) {
      if (error instanceof LexFailure) {
        throw new RuleParseError(error.category, error.reason, error.detail, src, error.from, error.to);
      }
      throw error;
    }
  }

  // ---- errors ----

  #fail(category: ErrorCategory, reason: string, detail: ErrorDetail, from: number, to: number): LexFailure {
    return new LexFailure(category, reason, detail, from, to);
  }

  #unrecognised(at: number): LexFailure {
    return this.#fail('unrecognised_input', 'unrecognised input', {}, at, this.#end);
  }

  #expectedName(what: string, at: number, to = this.#end): LexFailure {
    return this.#fail('expected_name', `expected ${what}`, { what }, at, to);
  }

  #expect(at: number, token: string): number {
    if (this.#startsWith(at, token)) return at + token.length;
    throw this.#fail('expected_literal', `expected "${token}"`, { what: token }, at, this.#end);
  }

  #nest(depth: number, at: number): number {
    if (depth >= this.#maxDepth) {
      throw this.#fail('nesting_limit_exceeded', `the expression nests deeper than ${this.#maxDepth} levels`, { limit: this.#maxDepth }, at, this.#end);
    }
    return depth + 1;
  }

  // ---- characters ----

  #startsWith(at: number, token: string): boolean {
    return at + token.length <= this.#end && this.#src.startsWith(token, at);
  }

  #code(at: number): number {
    return at < this.#end ? this.#src.charCodeAt(at) : -1;
  }

  /** The position after the character (code point) at `at`. */
  #next(at: number): number {
    const c = this.#src.charCodeAt(at);
    return c >= 0xd800 && c <= 0xdbff && at + 1 < this.#end ? at + 2 : at + 1;
  }

  #skipSpace(at: number): number {
    while (at < this.#end) {
      const c = this.#src.charCodeAt(at);
      if (c !== SPACE && c !== CR && c !== LF) break;
      at++;
    }
    return at;
  }

  /** Takes exactly `count` characters. */
  #take(at: number, count: number): number {
    let p = at;
    for (let i = 0; i < count; i++) {
      if (p >= this.#end) {
        throw this.#fail('count_mismatch', `expected ${count} characters, but found ${i}`, { expected: count, actual: i }, at, this.#end);
      }
      p = this.#next(p);
    }
    return p;
  }

  #takeWhile(at: number, accept: (c: number) => boolean): number {
    let p = at;
    while (p < this.#end && accept(this.#src.charCodeAt(p))) p++;
    return p;
  }

  // ---- logical expressions (4.1, 4.2) ----

  #logical(at: number, depth: number): [LogicalExpr, number] {
    const [lhs, rest] = this.#simple(at, depth);
    return this.#more(lhs, depth, NO_OPERATOR, this.#combiningOp(rest));
  }

  /** The next logical operator after optional spaces, and the position after it and its spaces. */
  #combiningOp(at: number): { op: LogicalOp | undefined; at: number } {
    const p = this.#skipSpace(at);
    for (const [token, op] of LOGICAL_TOKENS) {
      if (this.#startsWith(p, token)) return { op, at: this.#skipSpace(p + token.length) };
    }
    return { op: undefined, at };
  }

  /** Precedence climbing exactly as the reference engine does it (same n-ary grouping, same error spans). */
  #more(first: LogicalExpr, depth: number, minPrecedence: number, lookahead: { op: LogicalOp | undefined; at: number }): [LogicalExpr, number] {
    let lhs = first;
    while (lookahead.op !== undefined) {
      const op = lookahead.op;
      let [rhs, rest] = this.#simple(lookahead.at, depth);
      while (true) {
        lookahead = this.#combiningOp(rest);
        if (precedence(lookahead.op) <= PRECEDENCE[op]) break;
        [rhs, rest] = this.#more(rhs, depth, precedence(lookahead.op), lookahead);
      }
      const lhsType = lhs.type;
      const rhsType = rhs.type;
      if (!((lhsType === 'Bool' && rhsType === 'Bool') || (isArrayType(lhsType) && isArrayType(rhsType)))) {
        throw this.#fail('type_mismatch', `cannot combine ${lhsType} with ${rhsType}`, { expected: [lhsType], actual: rhsType }, lookahead.at, this.#end);
      }
      if (lhs.kind === 'combining' && lhs.op === op) lhs.items.push(rhs);
      else lhs = { kind: 'combining', op, items: [lhs, rhs], type: lhsType };
      if (precedence(lookahead.op) < minPrecedence) lookahead = { op: undefined, at: rest };
    }
    return [lhs, lookahead.at];
  }

  #simple(at: number, depth: number): [LogicalExpr, number] {
    if (this.#startsWith(at, '(')) {
      const inner = this.#nest(depth, at);
      const [expr, rest] = this.#logical(this.#skipSpace(at + 1), inner);
      const end = this.#expect(this.#skipSpace(rest), ')');
      return [{ kind: 'parenthesized', expr, type: expr.type }, end];
    }
    const unary = this.#unaryOp(at);
    if (unary !== undefined) {
      const inner = this.#nest(depth, at);
      const [arg, rest] = this.#simple(this.#skipSpace(unary), inner);
      return [{ kind: 'not', arg, type: arg.type }, rest];
    }
    const quantifier = this.#quantifierCall(at);
    if (quantifier !== undefined) {
      const open = this.#skipSpace(quantifier.after);
      const inner = this.#nest(depth, open);
      let p = this.#skipSpace(this.#expect(open, '('));
      const argStart = p;
      const [arg, rest] = this.#callArg(p, inner);
      if (arg.kind === 'Literal') {
        throw this.#fail('type_mismatch', `${quantifier.op.toLowerCase()}() needs an Array<Bool>, not a literal`, { expected: [BOOL_ARRAY], actual: arg.value.type }, argStart, rest);
      }
      const argType = arg.kind === 'IndexExpr' ? arg.value.type : arg.value.type;
      if (argType !== BOOL_ARRAY) {
        throw this.#fail('type_mismatch', `${quantifier.op.toLowerCase()}() needs an Array<Bool>, not ${argType}`, { expected: [BOOL_ARRAY], actual: argType }, argStart, rest);
      }
      p = this.#expect(this.#skipSpace(rest), ')');
      const quantifierArg: QuantifierArg = arg.kind === 'IndexExpr' ? arg : { kind: 'SimpleExpr', value: arg.value };
      return [{ kind: 'quantifier', op: quantifier.op, arg: quantifierArg, type: 'Bool' }, p];
    }
    const [lhs, rest] = this.#indexExpr(at, depth);
    return this.#comparison(rest, lhs);
  }

  #unaryOp(at: number): number | undefined {
    if (this.#startsWith(at, 'not')) return at + 3;
    if (this.#startsWith(at, '!')) return at + 1;
    return undefined;
  }

  /** `any`/`all` count as quantifiers only when a `(` follows (after optional spaces). */
  #quantifierCall(at: number): { op: 'Any' | 'All'; after: number } | undefined {
    const op = this.#startsWith(at, 'any') ? 'Any' : this.#startsWith(at, 'all') ? 'All' : undefined;
    if (op === undefined) return undefined;
    return this.#startsWith(this.#skipSpace(at + 3), '(') ? { op, after: at + 3 } : undefined;
  }

  // ---- comparisons (6.2) ----

  #comparisonToken(at: number): { token: ComparisonToken; after: number } | undefined {
    for (const [text, token] of COMPARISON_TOKENS) {
      if (this.#startsWith(at, text)) return { token, after: at + text.length };
    }
    return undefined;
  }

  #comparison(at: number, lhs: IndexExpr): [LogicalExpr, number] {
    const lhsType = lhs.type;
    const comparisonType: Type = lhs.mapEachCount > 0 ? BOOL_ARRAY : 'Bool';
    if (lhsType === 'Bool') {
      return [{ kind: 'comparison', lhs, comparison: { op: 'IsTrue' }, type: comparisonType }, at];
    }
    if (elementType(lhsType) === 'Bool') {
      if (lhs.mapEachCount > 0) {
        throw this.#fail('unsupported_op', 'an Array<Array<Bool>> cannot be used as a condition', { lhs_type: 'Array<Array<Bool>>' }, at, at);
      }
      // A bare Array<Bool>/Map<Bool> is an element-wise condition; its type is the value's type.
      return [{ kind: 'comparison', lhs, comparison: { op: 'IsTrue' }, type: lhsType }, at];
    }
    const initial = this.#skipSpace(at);
    const found = this.#comparisonToken(initial);
    if (found === undefined) throw this.#expectedName('ComparisonOp', initial);
    const { token, after } = found;
    const p = this.#skipSpace(after);
    const unsupported = (to: number) =>
      this.#fail('unsupported_op', `this operator cannot be used on a value of type ${lhsType}`, { lhs_type: lhsType }, initial, to);
    const scalar = lhsType === 'Bytes' || lhsType === 'Int' || lhsType === 'Ip';
    let comparison: Comparison;
    let rest: number;
    if (token.kind === 'in' && scalar) {
      if (this.#code(p) === 0x24 /* $ */) {
        const [name, end] = this.#listName(p);
        if (!this.#scheme.hasList(lhsType)) throw unsupported(end);
        comparison = { op: 'InList', rhs: name, listType: lhsType };
        rest = end;
      } else {
        [comparison, rest] = this.#set(p, lhsType);
      }
    } else if (token.kind === 'ordering' && scalar) {
      let rhs: Literal;
      [rhs, rest] = lhsType === 'Bytes' ? this.#bytes(p) : lhsType === 'Int' ? this.#intLiteral(p) : this.#ipLiteral(p);
      comparison = { op: token.op, rhs };
    } else if (token.kind === 'bitwise' && lhsType === 'Int') {
      const [value, end] = this.#int(p);
      comparison = { op: 'BitwiseAnd', rhs: value };
      rest = end;
    } else if (token.kind === 'bytes' && lhsType === 'Bytes') {
      if (token.op === 'Contains') {
        const [rhs, end] = this.#bytes(p);
        comparison = { op: 'Contains', rhs };
        rest = end;
      } else if (token.op === 'Matches') {
        const [regex, end] = this.#regex(p);
        comparison = { op: 'Matches', rhs: regex };
        rest = end;
      } else {
        [comparison, rest] = this.#wildcard(p, token.op);
      }
    } else {
      throw unsupported(after);
    }
    return [{ kind: 'comparison', lhs, comparison, type: comparisonType }, rest];
  }

  // ---- value expressions (4.5) ----

  #identifier(at: number): [Field | FunctionDefinition, number] {
    let p = at;
    while (true) {
      const end = this.#takeWhile(p, isIdentifierChar);
      if (end === p) throw this.#expectedName('identifier character', p);
      p = end;
      if (this.#code(p) !== 0x2e /* . */) break;
      p++;
    }
    const name = this.#src.slice(at, p);
    const found = this.#scheme.lookup(name);
    if (found === undefined) throw this.#fail('unknown_identifier', `unknown identifier "${name}"`, {}, at, p);
    return [found, p];
  }

  #indexExpr(at: number, depth: number): [IndexExpr, number] {
    const [found, afterName] = this.#identifier(at);
    let base: Field | FunctionCall;
    let type: Type;
    let p: number;
    if ('index' in found) {
      base = found;
      type = found.type;
      p = afterName;
    } else {
      const inner = this.#nest(depth, this.#skipSpace(afterName));
      [base, p] = this.#call(afterName, inner, found);
      type = base.args.length > 0 && mapEachCount(base.args[0]) > 0 ? arrayOf(base.returnType) : base.returnType;
    }
    const indexes: Index[] = [];
    let mapEach = 0;
    while (this.#code(p) === 0x5b /* [ */) {
      const open = p;
      const [index, afterIndex] = this.#fieldIndex(this.#skipSpace(p + 1));
      const close = this.#expect(this.#skipSpace(afterIndex), ']');
      const element = elementType(type);
      const applicable =
        element !== undefined &&
        (index.kind === 'MapEach' || (index.kind === 'ArrayIndex') === isArrayType(type));
      if (!applicable) {
        const indexJson = index.kind === 'MapEach' ? { kind: 'MapEach' } : { kind: index.kind, value: index.kind === 'MapKey' ? decodeUtf8(index.value) : index.value };
        throw this.#fail('invalid_index_access', `cannot use index ${this.#src.slice(open, close)} on a value of type ${type}`, { index: indexJson, actual: type }, open, close);
      }
      type = element;
      if (index.kind === 'MapEach') mapEach++;
      indexes.push(index);
      p = close;
    }
    return [{ base, indexes, type, mapEachCount: mapEach }, p];
  }

  #fieldIndex(at: number): [Index, number] {
    if (this.#startsWith(at, '*')) return [{ kind: 'MapEach' }, at + 1];
    if (this.#code(at) === 0x22 /* " */) {
      const [key, end] = this.#bytes(at);
      if (decodeUtf8(key.value) === undefined) throw this.#fail('expected_literal', 'expected utf8 string', { what: 'expected utf8 string' }, at, this.#end);
      return [{ kind: 'MapKey', value: key.value }, end];
    }
    let value: Int;
    let end: number;
    try {
      [value, end] = this.#int(at);
    } catch (error) {
      if (!(error instanceof LexFailure)) throw error;
      const what = 'expected quoted utf8 string or positive integer';
      throw this.#fail('expected_literal', what, { what }, at, this.#end);
    }
    if (value < 0 || value > 0xffffffff) {
      const what = 'expected positive integer as index';
      throw this.#fail('expected_literal', what, { what }, at, this.#end);
    }
    return [{ kind: 'ArrayIndex', value: Number(value) }, end];
  }

  // ---- function calls (4.4, 10) ----

  #call(at: number, depth: number, definition: FunctionDefinition): [FunctionCall, number] {
    let p = this.#skipSpace(this.#expect(this.#skipSpace(at), '('));
    p = this.#skipSpace(p);
    const args: CallArg[] = [];
    const params: Param[] = [];
    const min = definition.minArgs;
    const max = definition.optionalArgs === null ? null : min + definition.optionalArgs;
    const countError = (from: number) =>
      this.#fail('invalid_arguments_count', `${definition.name}() takes ${max === null ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`} arguments`, { min, max }, from, this.#end);
    while (p < this.#end) {
      if (this.#code(p) === 0x29 /* ) */) break;
      if (args.length > 0) p = this.#expect(p, ',');
      p = this.#skipSpace(p);
      const index = args.length;
      const [arg, rest] = this.#callArg(p, depth);
      if (index !== 0 && mapEachCount(arg) > 0) {
        throw this.#fail('invalid_map_each_access', '[*] is only allowed in the first argument of a function', {}, p, rest);
      }
      const param = toParam(arg);
      if (max !== null && index >= max) throw countError(p);
      const problem = definition.checkParam(index, param, params);
      if (problem !== undefined) {
        const actual = problem.error === 'invalid_argument_kind' ? param.kind : param.type;
        const detail =
          problem.error === 'invalid_argument_kind'
            ? { index, expected: problem.expected, actual }
            : problem.error === 'invalid_argument_type'
              ? { index, expected: problem.expected, actual }
              : { index };
        const reason =
          problem.error === 'invalid_argument_kind'
            ? `argument ${index + 1} of ${definition.name}() must be a ${problem.expected === 'Field' ? 'field or expression' : 'literal'}`
            : problem.error === 'invalid_argument_type'
              ? `argument ${index + 1} of ${definition.name}() must be of type ${problem.expected.join(' or ')}, not ${param.type}`
              : `argument ${index + 1} of ${definition.name}() has a value outside its allowed range`;
        throw this.#fail(problem.error, reason, detail, p, rest);
      }
      args.push(arg);
      params.push(param);
      p = this.#skipSpace(rest);
    }
    if (args.length < min) throw countError(p);
    p = this.#expect(p, ')');
    return [{ kind: 'call', definition, args, params, returnType: definition.returnType(params) }, p];
  }

  /** One function or quantifier argument, chosen by its first characters as the reference engine does. */
  #callArg(at: number, depth: number): [CallArg, number] {
    if (at < this.#end) {
      const c = this.#src.codePointAt(at)!;
      const second = this.#next(at);
      const c2 = second < this.#end ? this.#src.codePointAt(second)! : -1;
      const third = second < this.#end ? this.#next(second) : this.#end;
      const c3 = third < this.#end ? this.#src.codePointAt(third)! : -1;
      if (c === 0x22 || (c === 0x72 /* r */ && (c2 === 0x23 || c2 === 0x22))) {
        const [literal, rest] = this.#bytes(at);
        return [{ kind: 'Literal', value: literal }, rest];
      }
      if (c === 0x28 || this.#unaryOp(at) !== undefined || this.#quantifierCall(at) !== undefined) {
        const [expr, rest] = this.#logical(at, depth);
        return [{ kind: 'SimpleExpr', value: expr }, rest];
      }
      if (
        isFieldStart(c) ||
        (isFieldOrInt(c) && isFieldStart(c2)) ||
        (isFieldOrInt(c) && isFieldOrInt(c2) && isFieldStart(c3))
      ) {
        return this.#valueOrComparisonArg(...this.#indexExpr(at, depth));
      }
    }
    let parsed: [IndexExpr, number] | undefined;
    try {
      parsed = this.#indexExpr(at, depth);
    } catch (error) {
      if (!(error instanceof LexFailure)) throw error;
    }
    if (parsed !== undefined) return this.#valueOrComparisonArg(...parsed);
    for (const literal of [() => this.#ipLiteral(at), () => this.#intLiteral(at), () => this.#bytes(at)]) {
      try {
        const [value, rest] = literal();
        return [{ kind: 'Literal', value }, rest];
      } catch (error) {
        if (!(error instanceof LexFailure)) throw error;
      }
    }
    throw this.#unrecognised(at);
  }

  /** A value expression argument, or a comparison when a comparison operator follows it. */
  #valueOrComparisonArg(lhs: IndexExpr, rest: number): [CallArg, number] {
    if (this.#comparisonToken(this.#skipSpace(rest)) !== undefined) {
      const [comparison, end] = this.#comparison(rest, lhs);
      return [{ kind: 'SimpleExpr', value: comparison }, end];
    }
    return [{ kind: 'IndexExpr', value: lhs }, rest];
  }

  // ---- literals (3.4) ----

  /** An integer (3.4.4): hex after 0x, octal after a leading 0, otherwise decimal with an optional sign. */
  #int(at: number): [Int, number] {
    if (this.#startsWith(at, '0x')) {
      const start = at + 2;
      const end = this.#hexRun(start);
      return [this.#parseInt(start, end, 16), end];
    }
    if (this.#code(at) === 0x30) {
      const end = this.#hexRun(at);
      return [this.#parseInt(at, end, 8), end];
    }
    const digits = this.#code(at) === 0x2d /* - */ ? at + 1 : at;
    const end = this.#hexRun(digits);
    return [this.#parseInt(at, end, 10), end];
  }

  /** The run of hex-digit characters (collected first for better error spans); at least one. */
  #hexRun(at: number): number {
    const end = this.#takeWhile(at, (c) => hexDigit(c) >= 0);
    if (end === at) throw this.#expectedName('digit', at);
    return end;
  }

  #parseInt(from: number, to: number, radix: 8 | 10 | 16): Int {
    const text = this.#src.slice(from, to);
    const negative = text.charCodeAt(0) === 0x2d;
    let value = 0n;
    const big = BigInt(radix);
    for (let i = negative ? 1 : 0; i < text.length; i++) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0 || digit >= radix) throw this.#intError(from, to, radix, 'invalid digit');
      value = value * big + BigInt(digit);
    }
    if (negative) value = -value;
    if (value < INT64_MIN || value > INT64_MAX) throw this.#intError(from, to, radix, 'number too large to fit in a 64-bit integer');
    return normalizeInt(value);
  }

  #intError(from: number, to: number, radix: number, why: string): LexFailure {
    return this.#fail('parse_int', `${why} while parsing with radix ${radix}`, { radix }, from, to);
  }

  #intLiteral(at: number): [IntLiteral, number] {
    const [value, end] = this.#int(at);
    return [{ type: 'Int', value }, end];
  }

  /** Integer set element: `a` or `a..b` with a ≤ b. */
  #intRange(at: number): [SetElement, number] {
    const [start, afterStart] = this.#int(at);
    if (!this.#startsWith(afterStart, '..')) return [{ type: 'Int', start, end: start }, afterStart];
    const [end, afterEnd] = this.#int(afterStart + 2);
    if (end < start) throw this.#fail('incompatible_range_bounds', 'the range ends before it starts', {}, at, afterEnd);
    return [{ type: 'Int', start, end }, afterEnd];
  }

  #ipRun(at: number): number {
    const end = this.#takeWhile(at, isIpChar);
    if (end === at) throw this.#expectedName('IP address character', at);
    return end;
  }

  #parseAddress(from: number, to: number): Ip {
    const ip = parseIp(this.#src.slice(from, to));
    if (ip === undefined) throw this.#networkError(from, to, 'invalid IP address syntax');
    return ip;
  }

  #networkError(from: number, to: number, why: string): LexFailure {
    return this.#fail('parse_network', why, {}, from, to);
  }

  /** A single address (comparisons): a CIDR is not accepted here. */
  #ipLiteral(at: number): [IpLiteral, number] {
    const end = this.#ipRun(at);
    return [{ type: 'Ip', value: this.#parseAddress(at, end) }, end];
  }

  /** IP set element: an address, a CIDR with zero host bits, or an explicit range `a..b`. */
  #ipRange(at: number): [SetElement, number] {
    const end = this.#ipRun(at);
    const chunk = this.#src.slice(at, end);
    const dots = chunk.indexOf('..');
    if (dots !== -1) {
      const first = this.#parseAddress(at, at + dots);
      const last = this.#parseAddress(at + dots + 2, end);
      const order = compareIp(first, last);
      if (order === undefined || order > 0) {
        throw this.#fail('incompatible_range_bounds', 'the range mixes address families or ends before it starts', {}, at, end);
      }
      return [{ type: 'Ip', start: first, end: last, prefix: undefined }, end];
    }
    const slash = chunk.indexOf('/');
    const addressEnd = slash === -1 ? end : at + slash;
    const addressText = this.#src.slice(at, addressEnd);
    const address = parseIp(addressText, { allowLeadingZeros: true });
    if (address === undefined) throw this.#networkError(at, addressEnd, 'invalid IP address syntax');
    const full = address.family === 4 ? 32 : 128;
    let prefix = full;
    if (slash !== -1) {
      const lengthText = chunk.slice(slash + 1);
      if (!/^\+?[0-9]+$/.test(lengthText)) throw this.#networkError(addressEnd + 1, end, 'invalid network length');
      prefix = Number(lengthText);
      if (prefix > 255) throw this.#networkError(addressEnd + 1, end, 'invalid network length');
      if (prefix > full) throw this.#networkError(at, end, `network length ${prefix} is too long for this address family`);
    }
    const [first, last] = prefixRange(address, prefix);
    if (compareIp(first, address) !== 0) throw this.#networkError(at, addressEnd, 'host part of the address is not zero');
    return [{ type: 'Ip', start: address, end: last, prefix }, end];
  }

  /** A Bytes literal: quoted string, raw string or byte sequence. */
  #bytes(at: number): [BytesLiteral, number] {
    const c = this.#code(at);
    if (c === -1) throw this.#unrecognised(at);
    if (c === 0x22) {
      const [value, end] = this.#quoted(at + 1);
      return [{ type: 'Bytes', value, format: 'string' }, end];
    }
    if (c === 0x72 /* r */) {
      const [from, to, end] = this.#raw(at + 1);
      return [{ type: 'Bytes', value: utf8Bytes(this.#src.slice(from, to)), format: 'string' }, end];
    }
    return this.#byteSequence(at);
  }

  /** Quoted string content after the opening quote (3.4.1). */
  #quoted(start: number): [Bytes, number] {
    let out = '';
    let p = start;
    while (true) {
      if (p >= this.#end) throw this.#missingQuote(start);
      const c = this.#src.charCodeAt(p);
      if (c === 0x5c /* \ */) {
        const escaped = p + 1;
        if (escaped >= this.#end) throw this.#missingQuote(start);
        const e = this.#src.charCodeAt(escaped);
        if (e === 0x22 || e === 0x5c) {
          out += String.fromCharCode(e);
          p = escaped + 1;
        } else if (e === 0x78 /* x */) {
          const [byte, end] = this.#fixedByte(escaped + 1, 2, 16);
          out += String.fromCharCode(byte);
          p = end;
        } else if (e >= 0x30 && e <= 0x37) {
          const [byte, end] = this.#fixedByte(escaped, 3, 8);
          out += String.fromCharCode(byte);
          p = end;
        } else {
          throw this.#fail('invalid_character_escape', 'expected ", xHH or OOO after \\', {}, escaped, this.#next(escaped));
        }
      } else if (c === 0x22) {
        return [out, p + 1];
      } else {
        const next = this.#next(p);
        out += utf8Bytes(this.#src.slice(p, next));
        p = next;
      }
    }
  }

  #missingQuote(from: number): LexFailure {
    return this.#fail('missing_ending_quote', 'could not find an ending quote', {}, from, this.#end);
  }

  /** `digits` characters read as one byte in `radix`. */
  #fixedByte(at: number, digits: number, radix: 8 | 16): [number, number] {
    const end = this.#take(at, digits);
    const text = this.#src.slice(at, end);
    let value = 0;
    let i = text.charCodeAt(0) === 0x2b /* + */ && text.length > 1 ? 1 : 0;
    let valid = true;
    for (; i < text.length; i++) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0 || digit >= radix) {
        valid = false;
        break;
      }
      value = value * radix + digit;
    }
    if (!valid || value > 255) throw this.#intError(at, end, radix, valid ? 'number too large to fit in a byte' : 'invalid digit');
    return [value, end];
  }

  /** Raw string after the `r` (3.4.2): returns the content range and the end. */
  #raw(start: number): [number, number, number] {
    let hashes = 0;
    while (this.#code(start + hashes) === 0x23) hashes++;
    if (hashes > 255) throw this.#fail('invalid_raw_string_hash_count', "invalid raw string hash count, there can't be more than 255 #s", {}, start, this.#end);
    const quote = start + hashes;
    if (this.#code(quote) !== 0x22) throw this.#expectedName('" or #', quote);
    let p = quote + 1;
    while (true) {
      if (p >= this.#end) throw this.#missingQuote(start);
      const c = this.#src.charCodeAt(p);
      p = this.#next(p);
      if (c !== 0x22) continue;
      let closing = 0;
      while (this.#code(p + closing) === 0x23) closing++;
      if (closing >= hashes) return [quote + 1, p - 1, p + hashes];
      p += closing;
    }
  }

  /** Byte-sequence literal (3.4.3): two or more hex pairs separated by `:`, `-` or `.`. */
  #byteSequence(at: number): [BytesLiteral, number] {
    let [byte, p] = this.#fixedByte(at, 2, 16);
    let out = String.fromCharCode(byte);
    p = this.#separator(p);
    while (true) {
      [byte, p] = this.#fixedByte(p, 2, 16);
      out += String.fromCharCode(byte);
      const c = this.#code(p);
      if (c !== 0x3a && c !== 0x2d && c !== 0x2e) return [{ type: 'Bytes', value: out, format: 'bytes' }, p];
      p++;
    }
  }

  #separator(at: number): number {
    const end = this.#take(at, 1);
    const c = this.#src.charCodeAt(at);
    if (c !== 0x3a && c !== 0x2d && c !== 0x2e) throw this.#expectedName('byte separator', at, end);
    return end;
  }

  /** `{ … }` set of the LHS type's elements (3.4.6). */
  #set(at: number, type: Type): [Comparison, number] {
    let p = this.#expect(at, '{');
    const elements: SetElement[] = [];
    while (true) {
      p = this.#skipSpace(p);
      if (this.#startsWith(p, '}')) return [{ op: 'OneOf', rhs: elements }, p + 1];
      let element: SetElement;
      [element, p] = type === 'Int' ? this.#intRange(p) : type === 'Ip' ? this.#ipRange(p) : this.#bytes(p);
      elements.push(element);
    }
  }

  /** `$name` (3.4.7). */
  #listName(at: number): [string, number] {
    const start = at + 1;
    const end = this.#takeWhile(start, isListNameChar);
    const name = this.#src.slice(start, end);
    if (name.length === 0 || name.startsWith('.') || name.endsWith('.')) {
      throw this.#fail('invalid_list_name', `invalid list name "$${name}": use lower-case letters, digits, _ and inner dots`, {}, start, this.#end);
    }
    return [name, end];
  }

  /** Regex literal after `matches`/`~` (3.4.8). */
  #regex(at: number): [Regex, number] {
    const c = this.#code(at);
    if (c === -1) throw this.#unrecognised(at);
    if (c === 0x72 /* r */) {
      const [from, to, end] = this.#raw(at + 1);
      return [this.#compileRegex(this.#src.slice(from, to), end, this.#end), end];
    }
    if (c !== 0x22) throw this.#expectedName('" or r', at);
    const start = at + 1;
    let pattern = '';
    let inClass = false;
    let p = start;
    while (true) {
      if (p >= this.#end) throw this.#missingQuote(start);
      const ch = this.#src.charCodeAt(p);
      const next = this.#next(p);
      if (ch === 0x5c) {
        if (next < this.#end) {
          const after = this.#next(next);
          const escaped = this.#src.slice(next, after);
          if (inClass || escaped !== '"') pattern += '\\';
          pattern += escaped;
          p = after;
        } else {
          p = next;
        }
        continue;
      }
      if (ch === 0x22 && !inClass) {
        return [this.#compileRegex(pattern, start, p), next];
      }
      if (ch === 0x5b && !inClass) inClass = true;
      else if (ch === 0x5d && inClass) inClass = false;
      pattern += this.#src.slice(p, next);
      p = next;
    }
  }

  #compileRegex(pattern: string, from: number, to: number): Regex {
    try {
      return compileRegex(pattern, this.#regexSizeLimit === undefined ? undefined : { sizeLimit: this.#regexSizeLimit });
    } catch (error) {
      if (error instanceof RegexSyntaxError) throw this.#fail('parse_regex', error.message, {}, from, to);
      throw error;
    }
  }

  /** Wildcard literal after `wildcard`/`strict wildcard` (3.4.9, 7.5). */
  #wildcard(at: number, op: 'Wildcard' | 'Strict Wildcard'): [Comparison, number] {
    const c = this.#code(at);
    if (c === -1) throw this.#unrecognised(at);
    if (c !== 0x22 && c !== 0x72) throw this.#expectedName('" or r', at);
    const [pattern, end] = this.#bytes(at);
    try {
      const wildcard = compileWildcard(pattern.value, { caseSensitive: op === 'Strict Wildcard', starLimit: this.#starLimit });
      return [{ op, rhs: pattern, wildcard }, end];
    } catch (error) {
      if (error instanceof WildcardSyntaxError) throw this.#fail('parse_wildcard', error.message, {}, at, this.#end);
      throw error;
    }
  }
}

function precedence(op: LogicalOp | undefined): number {
  return op === undefined ? NO_OPERATOR : PRECEDENCE[op];
}

function mapEachCount(arg: CallArg): number {
  return arg.kind === 'IndexExpr' ? arg.value.mapEachCount : 0;
}

function toParam(arg: CallArg): Param {
  if (arg.kind === 'Literal') return { kind: 'Literal', type: arg.value.type, value: arg.value.value };
  return { kind: 'Field', type: arg.value.type };
}

function isIdentifierChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** A character that can start a field name but not a number (letters after f/F, or `_`). */
function isFieldStart(c: number): boolean {
  return (isIdentifierChar(c) && hexDigit(c) < 0) || c === 0x5f;
}

function isFieldOrInt(c: number): boolean {
  return isIdentifierChar(c);
}

function isIpChar(c: number): boolean {
  return hexDigit(c) >= 0 || c === 0x3a || c === 0x2e || c === 0x2f;
}

function isListNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e;
}
