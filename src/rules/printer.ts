// Prints an AST back as expression text that parses to the same AST JSON: for error messages,
// the admin API and the parse → print → parse property. Spelling is canonical (`and`, `==`,
// quoted strings with \x escapes, regexes as raw strings).
import type { BytesLiteral, CallArg, Comparison, FilterAst, IndexExpr, Literal, LogicalExpr, SetElement } from './ast.ts';
import { formatIp } from './ip.ts';
import type { Int } from './values.ts';

export function printFilter(ast: FilterAst): string {
  return printLogical(ast.root);
}

const LOGICAL_WORDS = { And: 'and', Or: 'or', Xor: 'xor' } as const;
const ORDERING = {
  Equal: '==',
  NotEqual: '!=',
  GreaterThanEqual: '>=',
  LessThanEqual: '<=',
  GreaterThan: '>',
  LessThan: '<',
} as const;

function printLogical(expr: LogicalExpr): string {
  switch (expr.kind) {
    case 'parenthesized':
      return printLogical(expr.expr);
    case 'combining':
      return expr.items.map(printOperand).join(` ${LOGICAL_WORDS[expr.op]} `);
    case 'not':
      return `not ${printOperand(expr.arg)}`;
    case 'quantifier':
      return `${expr.op === 'Any' ? 'any' : 'all'}(${expr.arg.kind === 'IndexExpr' ? printValue(expr.arg.value) : printArgumentExpr(expr.arg.value)})`;
    case 'comparison':
      return printComparison(expr.lhs, expr.comparison);
  }
}

/** An operand of `and`/`or`/`xor`/`not`: combinations get parentheses so that they stay separate nodes. */
function printOperand(expr: LogicalExpr): string {
  const inner = expr.kind === 'parenthesized' ? unwrap(expr) : expr;
  return inner.kind === 'combining' ? `(${printLogical(inner)})` : printLogical(inner);
}

/** A logical expression in an argument position: only a plain comparison may stand without parentheses. */
function printArgumentExpr(expr: LogicalExpr): string {
  const inner = unwrap(expr);
  return inner.kind === 'comparison' && inner.comparison.op !== 'IsTrue' ? printLogical(inner) : `(${printLogical(inner)})`;
}

function unwrap(expr: LogicalExpr): LogicalExpr {
  let inner = expr;
  while (inner.kind === 'parenthesized') inner = inner.expr;
  return inner;
}

function printComparison(lhs: IndexExpr, comparison: Comparison): string {
  const left = printValue(lhs);
  switch (comparison.op) {
    case 'IsTrue':
      return left;
    case 'BitwiseAnd':
      return `${left} & ${printInt(comparison.rhs)}`;
    case 'Contains':
      return `${left} contains ${printBytes(comparison.rhs)}`;
    case 'Matches':
      return `${left} matches ${rawString(comparison.rhs.source)}`;
    case 'Wildcard':
      return `${left} wildcard ${printBytes(comparison.rhs)}`;
    case 'Strict Wildcard':
      return `${left} strict wildcard ${printBytes(comparison.rhs)}`;
    case 'OneOf':
      return `${left} in {${comparison.rhs.map(printSetElement).join(' ')}}`;
    case 'InList':
      return `${left} in $${comparison.rhs}`;
    default:
      return `${left} ${ORDERING[comparison.op]} ${printLiteral(comparison.rhs)}`;
  }
}

function printValue(expr: IndexExpr): string {
  let text: string;
  if ('index' in expr.base) text = expr.base.name;
  else text = `${expr.base.definition.name}(${expr.base.args.map(printArg).join(', ')})`;
  for (const index of expr.indexes) {
    if (index.kind === 'MapEach') text += '[*]';
    else if (index.kind === 'ArrayIndex') text += `[${index.value}]`;
    else text += `[${quoted(index.value)}]`;
  }
  return text;
}

function printArg(arg: CallArg): string {
  if (arg.kind === 'IndexExpr') return printValue(arg.value);
  if (arg.kind === 'Literal') return printLiteral(arg.value);
  return printArgumentExpr(arg.value);
}

function printLiteral(literal: Literal): string {
  if (literal.type === 'Int') return printInt(literal.value);
  if (literal.type === 'Ip') return formatIp(literal.value);
  return printBytes(literal);
}

function printInt(value: Int): string {
  return value.toString();
}

function printBytes(literal: BytesLiteral): string {
  if (literal.format === 'string') return quoted(literal.value);
  const pairs: string[] = [];
  for (let i = 0; i < literal.value.length; i++) pairs.push(literal.value.charCodeAt(i).toString(16).padStart(2, '0'));
  return pairs.join(':');
}

function printSetElement(element: SetElement): string {
  if (element.type === 'Bytes') return printBytes(element);
  if (element.type === 'Int') return element.start === element.end ? printInt(element.start) : `${printInt(element.start)}..${printInt(element.end)}`;
  if (element.prefix === undefined) return `${formatIp(element.start)}..${formatIp(element.end)}`;
  const full = element.start.family === 4 ? 32 : 128;
  return element.prefix === full ? formatIp(element.start) : `${formatIp(element.start)}/${element.prefix}`;
}

/** A quoted string for bytes: printable ASCII as is, `"` and `\` escaped, every other byte as \xHH. */
function quoted(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${bytes[i]}`;
    else if (c >= 0x20 && c < 0x7f) out += bytes[i];
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** A raw string with enough `#` that the content cannot end it early. */
function rawString(text: string): string {
  let hashes = '';
  while (text.includes(`"${hashes}`)) hashes += '#';
  return `r${hashes}"${text}"${hashes}`;
}
