// The parsed, type-checked AST and its canonical JSON form (SPEC.md 14). The JSON is the key for
// deduplicating rules and caching compiled filters: spelling, spacing, redundant parentheses and
// string-literal style leave no trace in it.
import type { FunctionDefinition, Param } from './function.ts';
import { formatIp } from './ip.ts';
import type { Regex } from './regex/index.ts';
import type { Field } from './scheme.ts';
import { decodeUtf8, type Bytes, type Int, type Ip, type Type } from './values.ts';
import type { Wildcard } from './wildcard.ts';

export type LogicalOp = 'And' | 'Or' | 'Xor';
export type OrderingOp = 'Equal' | 'NotEqual' | 'GreaterThanEqual' | 'LessThanEqual' | 'GreaterThan' | 'LessThan';

/** A bytes literal remembers its spelling: byte-sequence literals always serialise as byte arrays. */
export interface BytesLiteral {
  readonly type: 'Bytes';
  readonly value: Bytes;
  readonly format: 'string' | 'bytes';
}
export interface IntLiteral {
  readonly type: 'Int';
  readonly value: Int;
}
export interface IpLiteral {
  readonly type: 'Ip';
  readonly value: Ip;
}
export type Literal = BytesLiteral | IntLiteral | IpLiteral;

export type SetElement =
  | { readonly type: 'Int'; readonly start: Int; readonly end: Int }
  /** A CIDR (`prefix` = its length; a full-length prefix is a single address) or an explicit range. */
  | { readonly type: 'Ip'; readonly start: Ip; readonly end: Ip; readonly prefix: number | undefined }
  | BytesLiteral;

export type Index =
  | { readonly kind: 'ArrayIndex'; readonly value: number }
  | { readonly kind: 'MapKey'; readonly value: Bytes }
  | { readonly kind: 'MapEach' };

export interface FunctionCall {
  readonly kind: 'call';
  readonly definition: FunctionDefinition;
  readonly args: readonly CallArg[];
  readonly params: readonly Param[];
  /** The definition's return type (before wrapping in Array for a mapped first argument). */
  readonly returnType: Type;
}

export type CallArg =
  | { readonly kind: 'IndexExpr'; readonly value: IndexExpr }
  | { readonly kind: 'Literal'; readonly value: Literal }
  | { readonly kind: 'SimpleExpr'; readonly value: LogicalExpr };

/** A field or call followed by indexes. `type` is the type after the last index. */
export interface IndexExpr {
  readonly base: Field | FunctionCall;
  readonly indexes: readonly Index[];
  readonly type: Type;
  readonly mapEachCount: number;
}

export type Comparison =
  | { readonly op: 'IsTrue' }
  | { readonly op: OrderingOp; readonly rhs: Literal }
  | { readonly op: 'BitwiseAnd'; readonly rhs: Int }
  | { readonly op: 'Contains'; readonly rhs: BytesLiteral }
  | { readonly op: 'Matches'; readonly rhs: Regex }
  | { readonly op: 'Wildcard' | 'Strict Wildcard'; readonly rhs: BytesLiteral; readonly wildcard: Wildcard }
  | { readonly op: 'OneOf'; readonly rhs: readonly SetElement[] }
  | { readonly op: 'InList'; readonly rhs: string; readonly listType: Type };

export type LogicalExpr =
  | { readonly kind: 'combining'; readonly op: LogicalOp; readonly items: LogicalExpr[]; readonly type: Type }
  | { readonly kind: 'comparison'; readonly lhs: IndexExpr; readonly comparison: Comparison; readonly type: Type }
  | { readonly kind: 'parenthesized'; readonly expr: LogicalExpr; readonly type: Type }
  | { readonly kind: 'not'; readonly arg: LogicalExpr; readonly type: Type }
  | { readonly kind: 'quantifier'; readonly op: 'Any' | 'All'; readonly arg: QuantifierArg; readonly type: Type };

export type QuantifierArg =
  | { readonly kind: 'IndexExpr'; readonly value: IndexExpr }
  | { readonly kind: 'SimpleExpr'; readonly value: LogicalExpr };

/** A parsed filter: a Bool-typed logical expression over one scheme. */
export interface FilterAst {
  readonly root: LogicalExpr;
}

/** The canonical compact JSON of a filter (SPEC 14). */
export function astToJson(ast: FilterAst | LogicalExpr): string {
  return JSON.stringify(toJsonValue('root' in ast ? ast.root : ast));
}

/** The canonical JSON as a plain value (for embedding in other JSON). */
export function toJsonValue(expr: LogicalExpr): unknown {
  switch (expr.kind) {
    case 'combining':
      return { op: expr.op, items: expr.items.map(toJsonValue) };
    case 'parenthesized':
      return toJsonValue(expr.expr);
    case 'not':
      return { op: 'Not', arg: toJsonValue(expr.arg) };
    case 'quantifier':
      return {
        op: expr.op,
        arg:
          expr.arg.kind === 'IndexExpr'
            ? { kind: 'IndexExpr', value: indexExprJson(expr.arg.value) }
            : { kind: 'SimpleExpr', value: toJsonValue(expr.arg.value) },
      };
    case 'comparison':
      return comparisonJson(expr.lhs, expr.comparison);
  }
}

/** Canonical key of a value expression: equal keys compute equal values for one request. */
export function valueKey(expr: IndexExpr): string {
  return JSON.stringify(indexExprJson(expr));
}

/** Canonical key of a comparison. */
export function comparisonKey(lhs: IndexExpr, comparison: Comparison): string {
  return JSON.stringify(comparisonJson(lhs, comparison));
}

function comparisonJson(lhs: IndexExpr, comparison: Comparison): unknown {
  const left = indexExprJson(lhs);
  switch (comparison.op) {
    case 'IsTrue':
      return { lhs: left, op: 'IsTrue' };
    case 'BitwiseAnd':
      return { lhs: left, op: 'BitwiseAnd', rhs: intJson(comparison.rhs) };
    case 'Matches':
      return { lhs: left, op: 'Matches', rhs: comparison.rhs.source };
    case 'OneOf':
      return { lhs: left, op: 'OneOf', rhs: comparison.rhs.map(setElementJson) };
    case 'InList':
      return { lhs: left, op: 'InList', rhs: comparison.rhs };
    default:
      return { lhs: left, op: comparison.op, rhs: literalJson(comparison.rhs) };
  }
}

function indexExprJson(expr: IndexExpr): unknown {
  const base = 'index' in expr.base ? expr.base.name : callJson(expr.base);
  if (expr.indexes.length === 0) return base;
  return [
    base,
    ...expr.indexes.map((index) =>
      index.kind === 'MapEach'
        ? { kind: 'MapEach' }
        : index.kind === 'MapKey'
          ? { kind: 'MapKey', value: decodeUtf8(index.value) }
          : { kind: 'ArrayIndex', value: index.value },
    ),
  ];
}

function callJson(call: FunctionCall): unknown {
  return {
    name: call.definition.name,
    args: call.args.map((arg) =>
      arg.kind === 'IndexExpr'
        ? { kind: 'IndexExpr', value: indexExprJson(arg.value) }
        : arg.kind === 'Literal'
          ? { kind: 'Literal', value: literalJson(arg.value) }
          : { kind: 'SimpleExpr', value: toJsonValue(arg.value) },
    ),
  };
}

function literalJson(literal: Literal): unknown {
  if (literal.type === 'Int') return intJson(literal.value);
  if (literal.type === 'Ip') return formatIp(literal.value);
  return bytesJson(literal);
}

/** Strings that are valid UTF-8 serialise as JSON strings, anything else as an array of byte values. */
function bytesJson(literal: BytesLiteral): unknown {
  if (literal.format === 'string') {
    const text = decodeUtf8(literal.value);
    if (text !== undefined) return text;
  }
  const bytes: number[] = [];
  for (let i = 0; i < literal.value.length; i++) bytes.push(literal.value.charCodeAt(i));
  return bytes;
}

/** Integers beyond ±2^53 are emitted as exact JSON integers through a placeholder. */
function intJson(value: Int): unknown {
  return typeof value === 'bigint' ? new ExactInt(value) : value;
}

class ExactInt {
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = value;
  }
  toJSON(): unknown {
    // JSON.stringify cannot emit a bigint; rawJSON emits the digits verbatim.
    return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(this.value.toString());
  }
}

function setElementJson(element: SetElement): unknown {
  if (element.type === 'Bytes') return bytesJson(element);
  if (element.type === 'Int') return { start: intJson(element.start), end: intJson(element.end) };
  if (element.prefix === undefined) return { start: formatIp(element.start), end: formatIp(element.end) };
  const full = element.start.family === 4 ? 32 : 128;
  return element.prefix === full ? formatIp(element.start) : `${formatIp(element.start)}/${element.prefix}`;
}
