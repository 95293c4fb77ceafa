// The baseline: the simplest correct evaluator, a tree-walking interpreter over the AST. It
// re-derives everything on every call (no closures, no prepared sets or searchers, function
// implementations prepared per call), which is what the compiler exists to avoid.
import type { CallArg, Comparison, FilterAst, Index, IndexExpr, LogicalExpr, SetElement } from '../../src/rules/ast.ts';
import type { ExecutionContext } from '../../src/rules/context.ts';
import { compareIp } from '../../src/rules/ip.ts';
import type { ByteMap, Bytes, Int, Ip, MaybeValue, Value } from '../../src/rules/values.ts';

export function interpret(ast: FilterAst, ctx: ExecutionContext): boolean {
  return logical(ast.root, ctx) as boolean;
}

function logical(expr: LogicalExpr, ctx: ExecutionContext): boolean | boolean[] {
  switch (expr.kind) {
    case 'parenthesized':
      return logical(expr.expr, ctx);
    case 'not': {
      const v = logical(expr.arg, ctx);
      return Array.isArray(v) ? v.map((b) => !b) : !v;
    }
    case 'combining': {
      const values = expr.items.map((item) => logical(item, ctx));
      if (!Array.isArray(values[0])) {
        const bools = values as boolean[];
        if (expr.op === 'And') return bools.every(Boolean);
        if (expr.op === 'Or') return bools.some(Boolean);
        return bools.reduce((a, b) => a !== b, false);
      }
      return (values as boolean[][]).reduce((a, b) =>
        a.slice(0, Math.min(a.length, b.length)).map((x, i) => (expr.op === 'And' ? x && b[i] : expr.op === 'Or' ? x || b[i] : x !== b[i])),
      );
    }
    case 'quantifier': {
      let items: boolean[];
      if (expr.arg.kind === 'IndexExpr') {
        const v = value(expr.arg.value, ctx);
        if (v === undefined) return false;
        items = v as boolean[];
      } else items = logical(expr.arg.value, ctx) as boolean[];
      return expr.op === 'Any' ? items.some(Boolean) : items.every(Boolean);
    }
    case 'comparison':
      return comparison(expr.lhs, expr.comparison, ctx);
  }
}

function comparison(lhs: IndexExpr, cmp: Comparison, ctx: ExecutionContext): boolean | boolean[] {
  if (lhs.mapEachCount > 0) {
    const values: Value[] = [];
    const root = base(lhs, ctx);
    if (root !== undefined) walk(root, lhs.indexes, 0, values);
    return values.map((v) => test(v, cmp, ctx));
  }
  const v = value(lhs, ctx);
  if (cmp.op === 'IsTrue' && lhs.type !== 'Bool') return v === undefined ? [] : elements(v).map((e) => e === true);
  if (v === undefined) return cmp.op === 'NotEqual' ? ctx.scheme.nilNotEqual : false;
  return test(v, cmp, ctx);
}

function test(v: Value, cmp: Comparison, ctx: ExecutionContext): boolean {
  switch (cmp.op) {
    case 'IsTrue':
      return v === true;
    case 'Contains':
      return (v as Bytes).includes(cmp.rhs.value);
    case 'Matches':
      return cmp.rhs.test(v as Bytes);
    case 'Wildcard':
    case 'Strict Wildcard':
      return cmp.wildcard.test(v as Bytes);
    case 'BitwiseAnd':
      return BigInt.asIntN(64, BigInt(v as Int) & BigInt(cmp.rhs)) !== 0n;
    case 'OneOf':
      return cmp.rhs.some((element) => inElement(v, element));
    case 'InList': {
      const matcher = ctx.lists[cmp.listType as 'Ip'] as ((name: string, value: Value) => boolean) | undefined;
      return matcher !== undefined && matcher(cmp.rhs, v);
    }
    default: {
      const rhs = cmp.rhs.value;
      let order: number | undefined;
      if (cmp.rhs.type === 'Ip') order = compareIp(v as Ip, rhs as Ip);
      else order = (v as Bytes | Int) < (rhs as Bytes | Int) ? -1 : (v as Bytes | Int) > (rhs as Bytes | Int) ? 1 : 0;
      if (order === undefined) return cmp.op === 'NotEqual';
      switch (cmp.op) {
        case 'Equal':
          return order === 0;
        case 'NotEqual':
          return order !== 0;
        case 'GreaterThan':
          return order > 0;
        case 'GreaterThanEqual':
          return order >= 0;
        case 'LessThan':
          return order < 0;
        case 'LessThanEqual':
          return order <= 0;
      }
    }
  }
}

function inElement(v: Value, element: SetElement): boolean {
  if (element.type === 'Bytes') return v === element.value;
  if (element.type === 'Int') return (v as Int) >= element.start && (v as Int) <= element.end;
  const ip = v as Ip;
  return ip.family === element.start.family && ip.value >= element.start.value && ip.value <= element.end.value;
}

function base(expr: IndexExpr, ctx: ExecutionContext): MaybeValue {
  if ('index' in expr.base) return ctx.get(expr.base.index);
  const call = expr.base;
  const impl = call.definition.compile(call.params);
  const args = call.args.map((arg) => argument(arg, ctx));
  const first = call.args[0];
  if (first?.kind === 'IndexExpr' && first.value.mapEachCount > 0) {
    if (args[0] === undefined) return undefined;
    const out: Value[] = [];
    for (const e of elements(args[0])) {
      const r = impl([e, ...args.slice(1)]);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  return impl(args);
}

function argument(arg: CallArg, ctx: ExecutionContext): MaybeValue {
  if (arg.kind === 'Literal') return arg.value.value;
  if (arg.kind === 'IndexExpr') return value(arg.value, ctx);
  return logical(arg.value, ctx);
}

function value(expr: IndexExpr, ctx: ExecutionContext): MaybeValue {
  const root = base(expr, ctx);
  if (root === undefined) return undefined;
  if (expr.mapEachCount === 0 || (expr.mapEachCount === 1 && expr.indexes[expr.indexes.length - 1].kind === 'MapEach')) {
    let v: MaybeValue = root;
    for (const index of expr.indexes) {
      if (index.kind === 'MapEach' || v === undefined) break;
      v = at(v, index);
    }
    return v;
  }
  const out: Value[] = [];
  walk(root, expr.indexes, 0, out);
  return out;
}

function walk(v: Value, indexes: readonly Index[], from: number, out: Value[]): void {
  if (from === indexes.length) {
    out.push(v);
    return;
  }
  const index = indexes[from];
  if (index.kind === 'MapEach') {
    for (const e of elements(v)) walk(e, indexes, from + 1, out);
    return;
  }
  const child = at(v, index);
  if (child !== undefined) walk(child, indexes, from + 1, out);
}

function at(v: Value, index: Index): MaybeValue {
  if (index.kind === 'ArrayIndex') return (v as Value[])[index.value];
  if (index.kind === 'MapKey') return (v as ByteMap).get(index.value);
  return undefined;
}

function elements(v: Value): Value[] {
  return Array.isArray(v) ? v : [...(v as ByteMap).values()];
}
