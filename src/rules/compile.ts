// The compiler (SPEC.md 7, 8, 9): a type-checked AST becomes a tree of closures, once. Literals,
// sets, searchers, regexes and wildcards are prepared here; executing a filter only reads field
// values and calls closures. Execution never throws for a well-typed filter: every irregularity
// is a missing value (`undefined`).
import type { CallArg, Comparison, FilterAst, FunctionCall, Index, IndexExpr, LogicalExpr, SetElement } from './ast.ts';
import type { ExecutionContext } from './context.ts';
import { compareIp } from './ip.ts';
import { FEW, fewBytes, inRanges, mergeRanges } from './lists.ts';
import type { Scheme } from './scheme.ts';
import { filterFunction } from './rule-program.ts';
import { substringSearcher } from './search.ts';
import type { ByteMap, Bytes, Int, Ip, MaybeValue, Value } from './values.ts';

export type BoolFn = (ctx: ExecutionContext) => boolean;
export type VecFn = (ctx: ExecutionContext) => boolean[];
export type ValueFn = (ctx: ExecutionContext) => MaybeValue;
/** A compiled Bool expression, or an Array<Bool> one (element-wise, inside quantifiers). */
export type Compiled = { readonly kind: 'one'; readonly fn: BoolFn } | { readonly kind: 'vec'; readonly fn: VecFn };

export type ElementTest = (value: Value, ctx: ExecutionContext) => boolean;

export interface Filter {
  execute(ctx: ExecutionContext): boolean;
}

export interface CompileOptions {
  /** Random source for the substring searchers' second-byte offsets (tests pass a seeded one). */
  readonly random?: () => number;
  /** Memo slots for sub-expressions shared by several rules (see RuleSet). */
  readonly sharing?: Sharing;
}

/** Assigns per-request memo slots (ExecutionContext.memo) to shared sub-expressions. */
export interface Sharing {
  valueSlot(expr: IndexExpr): number | undefined;
  comparisonSlot(lhs: IndexExpr, comparison: Comparison): number | undefined;
  /**
   * A bit of ExecutionContext.atoms that holds exactly when this comparison does (`each`: when
   * `any(lhs op rhs)` does), decided for all such comparisons at once before rules run.
   */
  atomBit(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined;
}

/** Compiles a parsed filter for its scheme. */
export function compile(ast: FilterAst, scheme: Scheme, options: CompileOptions = {}): Filter {
  return { execute: filterFunction(ast.root, new Compiler(scheme, options)) };
}

export class Compiler {
  /** A missing value is not equal to anything (`ne` holds), see SPEC 8.2. */
  readonly nilNotEqual: boolean;
  readonly #random: () => number;
  readonly #sharing: Sharing | undefined;

  constructor(scheme: Scheme, options: CompileOptions = {}) {
    this.nilNotEqual = scheme.nilNotEqual;
    this.#random = options.random ?? Math.random;
    this.#sharing = options.sharing;
  }

  logical(expr: LogicalExpr): Compiled {
    switch (expr.kind) {
      case 'parenthesized':
        return this.logical(expr.expr);
      case 'not': {
        const inner = this.logical(expr.arg);
        if (inner.kind === 'one') {
          const f = inner.fn;
          return { kind: 'one', fn: (ctx) => !f(ctx) };
        }
        const f = inner.fn;
        return { kind: 'vec', fn: (ctx) => f(ctx).map((b) => !b) };
      }
      case 'combining':
        return this.#combining(expr.op, expr.items.map((item) => this.logical(item)));
      case 'quantifier':
        return { kind: 'one', fn: this.#quantifier(expr.op, expr.arg) };
      case 'comparison':
        return this.#comparison(expr.lhs, expr.comparison);
    }
  }

  #combining(op: 'And' | 'Or' | 'Xor', items: Compiled[]): Compiled {
    if (items.every((item) => item.kind === 'one')) {
      const fns = items.map((item) => item.fn as BoolFn);
      return { kind: 'one', fn: combineBools(op, fns) };
    }
    const fns = items.map((item) => item.fn as VecFn);
    const combine = op === 'And' ? (a: boolean, b: boolean) => a && b : op === 'Or' ? (a: boolean, b: boolean) => a || b : (a: boolean, b: boolean) => a !== b;
    return {
      kind: 'vec',
      fn: (ctx) => {
        let result = fns[0](ctx);
        for (let k = 1; k < fns.length; k++) {
          const next = fns[k](ctx);
          const length = Math.min(result.length, next.length);
          const combined = new Array<boolean>(length);
          for (let i = 0; i < length; i++) combined[i] = combine(result[i], next[i]);
          result = combined;
        }
        return result;
      },
    };
  }

  #quantifier(op: 'Any' | 'All', arg: { kind: 'IndexExpr'; value: IndexExpr } | { kind: 'SimpleExpr'; value: LogicalExpr }): BoolFn {
    const any = op === 'Any';
    if (arg.kind === 'IndexExpr') {
      // A plain Array<Bool> value: missing makes both quantifiers false (SPEC 8.2).
      const value = this.value(arg.value);
      return (ctx) => {
        const v = value(ctx);
        if (v === undefined) return false;
        const items = v as readonly Value[];
        return any ? items.includes(true) : !items.includes(false);
      };
    }
    let single = arg.value;
    while (single.kind === 'parenthesized') single = single.expr;
    const bit = any && single.kind === 'comparison' ? this.#sharing?.atomBit(single.lhs, single.comparison, true) : undefined;
    if (bit !== undefined) return atomTest(bit);
    if (single.kind === 'comparison' && isTrailingEach(single.lhs)) {
      // any/all over one comparison: test the elements directly and stop at the first that decides.
      const lhs = single.lhs;
      const source = this.value({ ...lhs, indexes: lhs.indexes.slice(0, -1), mapEachCount: 0 });
      // A few byte strings are compared here: no call per element.
      const literals = single.comparison.op === 'OneOf' ? fewBytes(single.comparison.rhs) : undefined;
      const test = this.elementTest(single.comparison);
      return (ctx) => {
        const container = source(ctx);
        if (container === undefined) return !any;
        if (Array.isArray(container)) {
          if (literals !== undefined) {
            for (let i = 0; i < container.length; i++) {
              const element = container[i];
              let found = false;
              for (let k = 0; k < literals.length && !found; k++) found = element === literals[k];
              if (found === any) return any;
            }
            return !any;
          }
          for (let i = 0; i < container.length; i++) if (test(container[i] as Value, ctx) === any) return any;
        } else {
          for (const element of (container as ByteMap).values()) if (test(element, ctx) === any) return any;
        }
        return !any;
      };
    }
    const inner = this.logical(arg.value);
    if (inner.kind !== 'vec') throw new Error('a quantifier needs an Array<Bool> argument');
    const f = inner.fn;
    return any ? (ctx) => f(ctx).includes(true) : (ctx) => !f(ctx).includes(false);
  }

  #comparison(lhs: IndexExpr, comparison: Comparison): Compiled {
    const test = this.elementTest(comparison);
    const indexes = lhs.indexes;
    if (lhs.mapEachCount === 0) {
      const value = this.value(lhs);
      if (comparison.op === 'IsTrue' && lhs.type !== 'Bool') {
        // A bare Array<Bool>/Map<Bool>: one boolean per element; missing gives none.
        return { kind: 'vec', fn: (ctx) => mapElements(value(ctx), (e) => e === true) };
      }
      const bit = this.#sharing?.atomBit(lhs, comparison, false);
      if (bit !== undefined) return { kind: 'one', fn: atomTest(bit) };
      const missing = comparison.op === 'NotEqual' ? this.nilNotEqual : false;
      const fn: BoolFn = 'index' in lhs.base && indexes.length === 0 ? fieldComparison(lhs.base.index, comparison, test, missing) : valueComparison(value, comparison, test, missing);
      const slot = this.#sharing?.comparisonSlot(lhs, comparison);
      return { kind: 'one', fn: slot === undefined ? fn : memoized(slot, fn) };
    }
    if (lhs.mapEachCount === 1 && indexes[indexes.length - 1].kind === 'MapEach') {
      const source = this.value({ ...lhs, indexes: indexes.slice(0, -1), mapEachCount: 0 });
      return { kind: 'vec', fn: (ctx) => mapElements(source(ctx), (e) => test(e, ctx)) };
    }
    const base = this.#base(lhs);
    return {
      kind: 'vec',
      fn: (ctx) => {
        const root = base(ctx);
        if (root === undefined) return [];
        const out: boolean[] = [];
        visitMapEach(root, indexes, 0, (e) => out.push(test(e, ctx)));
        return out;
      },
    };
  }

  /** The value of an index expression; with `[*]` the source array/map, or the flattened elements. */
  value(expr: IndexExpr): ValueFn {
    const { compute, slot } = this.valueParts(expr);
    return slot === undefined ? compute : memoized(slot, compute);
  }

  /** How to compute a value, and its memo slot if it has one, for callers that keep the memo themselves. */
  valueParts(expr: IndexExpr): { compute: ValueFn; slot: number | undefined } {
    return { compute: this.#computeValue(expr), slot: expr.mapEachCount === 0 ? this.#sharing?.valueSlot(expr) : undefined };
  }

  #computeValue(expr: IndexExpr): ValueFn {
    const base = this.#base(expr);
    const indexes = expr.indexes;
    if (expr.mapEachCount === 0 || (expr.mapEachCount === 1 && indexes[indexes.length - 1].kind === 'MapEach')) {
      const fixed = expr.mapEachCount === 0 ? indexes : indexes.slice(0, -1);
      if (fixed.length === 0) return base;
      if ('index' in expr.base && fixed.length === 2 && fixed[0].kind === 'MapKey' && fixed[1].kind === 'ArrayIndex') {
        // `headers["x"][0]`, the commonest shape, read directly.
        const field = expr.base.index;
        const key = fixed[0].value;
        const position = fixed[1].value;
        return (ctx) => {
          const values = (ctx.get(field) as ByteMap | undefined)?.get(key) as readonly Value[] | undefined;
          return values === undefined ? undefined : values[position];
        };
      }
      if (fixed.length === 1) {
        const index = fixed[0];
        return (ctx) => {
          const v = base(ctx);
          return v === undefined ? undefined : applyIndex(v, index);
        };
      }
      return (ctx) => {
        let v = base(ctx);
        for (let i = 0; i < fixed.length && v !== undefined; i++) v = applyIndex(v, fixed[i]);
        return v;
      };
    }
    return (ctx) => {
      const root = base(ctx);
      if (root === undefined) return undefined;
      const out: Value[] = [];
      visitMapEach(root, indexes, 0, (e) => out.push(e));
      return out;
    };
  }

  #base(expr: IndexExpr): ValueFn {
    if ('index' in expr.base) {
      const index = expr.base.index;
      return (ctx) => ctx.get(index);
    }
    return this.#call(expr.base);
  }

  #call(call: FunctionCall): ValueFn {
    const impl = call.definition.compile(call.params);
    const args = call.args.map((arg) => this.#arg(arg));
    const buffer: MaybeValue[] = new Array(args.length);
    const first = call.args[0];
    if (first !== undefined && first.kind === 'IndexExpr' && first.value.mapEachCount > 0) {
      // Map-each: call once per element with the other arguments evaluated once; missing results are dropped.
      const source = args[0];
      return (ctx) => {
        const src = source(ctx);
        if (src === undefined) return undefined;
        const values: MaybeValue[] = new Array(args.length);
        for (let i = 1; i < args.length; i++) values[i] = args[i](ctx);
        const out: Value[] = [];
        forEachElement(src, (e) => {
          values[0] = e;
          const result = impl(values);
          if (result !== undefined) out.push(result);
        });
        return out;
      };
    }
    if (args.length === 1) {
      const only = args[0];
      return (ctx) => {
        buffer[0] = only(ctx);
        return impl(buffer);
      };
    }
    return (ctx) => {
      for (let i = 0; i < args.length; i++) buffer[i] = args[i](ctx);
      return impl(buffer);
    };
  }

  #arg(arg: CallArg): ValueFn {
    if (arg.kind === 'Literal') {
      const value = arg.value.value;
      return () => value;
    }
    if (arg.kind === 'IndexExpr') return this.value(arg.value);
    const compiled = this.logical(arg.value);
    return compiled.fn;
  }

  /** The test of one value (of the left-hand side's type, present) against the comparison's right-hand side. */
  elementTest(comparison: Comparison): ElementTest {
    switch (comparison.op) {
      case 'IsTrue':
        return (v) => v === true;
      case 'Equal':
      case 'NotEqual':
      case 'GreaterThanEqual':
      case 'LessThanEqual':
      case 'GreaterThan':
      case 'LessThan': {
        const rhs = comparison.rhs;
        if (rhs.type === 'Ip') return ipOrdering(comparison.op, rhs.value);
        return scalarOrdering(comparison.op, rhs.value);
      }
      case 'BitwiseAnd': {
        const mask = comparison.rhs;
        if (typeof mask === 'number' && mask >= 0 && mask <= 0x7fffffff) {
          return (v) => (typeof v === 'number' && v >= 0 && v <= 0x7fffffff ? (v & mask) !== 0 : bigAnd(v as Int, mask));
        }
        return (v) => bigAnd(v as Int, mask);
      }
      case 'Contains':
        return substringSearcher(comparison.rhs.value, this.#random) as ElementTest;
      case 'Matches': {
        const regex = comparison.rhs;
        return (v) => regex.test(v as Bytes);
      }
      case 'Wildcard':
      case 'Strict Wildcard': {
        const wildcard = comparison.wildcard;
        return (v) => wildcard.test(v as Bytes);
      }
      case 'OneOf':
        return setTest(comparison.rhs);
      case 'InList': {
        const name = comparison.rhs;
        const type = comparison.listType as 'Ip' | 'Int' | 'Bytes';
        return (v, ctx) => {
          const matcher = ctx.lists[type] as ((name: string, value: Value) => boolean) | undefined;
          return matcher !== undefined && matcher(name, v);
        };
      }
    }
  }
}

/**
 * A comparison on a plain field, the most common kind: the field read and the most frequent
 * tests are inlined into one closure instead of three calls.
 */
function fieldComparison(index: number, comparison: Comparison, test: ElementTest, missing: boolean): BoolFn {
  if (comparison.op === 'Equal' && comparison.rhs.type !== 'Ip') {
    const rhs = comparison.rhs.value;
    return (ctx) => {
      const v = ctx.get(index);
      return v === undefined ? missing : v === rhs;
    };
  }
  if (comparison.op === 'IsTrue') return (ctx) => ctx.get(index) === true;
  return (ctx) => {
    const v = ctx.get(index);
    return v === undefined ? missing : test(v, ctx);
  };
}

/** A comparison on a computed or indexed value; `eq` compares directly. */
function valueComparison(value: ValueFn, comparison: Comparison, test: ElementTest, missing: boolean): BoolFn {
  if (comparison.op === 'Equal' && comparison.rhs.type !== 'Ip') {
    const rhs = comparison.rhs.value;
    return (ctx) => {
      const v = value(ctx);
      return v === undefined ? missing : v === rhs;
    };
  }
  return (ctx) => {
    const v = value(ctx);
    return v === undefined ? missing : test(v, ctx);
  };
}

/** `x[*]` with the only `[*]` last: one comparison per element of x. */
function isTrailingEach(lhs: IndexExpr): boolean {
  return lhs.mapEachCount === 1 && lhs.indexes[lhs.indexes.length - 1].kind === 'MapEach';
}

/** Reads an atom decided by the rule set's prefilter for this request. */
function atomTest(bit: number): BoolFn {
  const word = bit >>> 5;
  const mask = 1 << (bit & 31);
  return (ctx) => (ctx.atoms[word] & mask) !== 0;
}

/** Computes `fn` once per request and keeps the result in the context's memo slot. */
function memoized<T>(slot: number, fn: (ctx: ExecutionContext) => T): (ctx: ExecutionContext) => T {
  return (ctx) => {
    if (ctx.memoGeneration[slot] === ctx.generation) return ctx.memo[slot] as T;
    const result = fn(ctx);
    ctx.memo[slot] = result;
    ctx.memoGeneration[slot] = ctx.generation;
    return result;
  };
}

function combineBools(op: 'And' | 'Or' | 'Xor', fns: BoolFn[]): BoolFn {
  if (fns.length === 2) {
    const [a, b] = fns;
    if (op === 'And') return (ctx) => a(ctx) && b(ctx);
    if (op === 'Or') return (ctx) => a(ctx) || b(ctx);
    return (ctx) => a(ctx) !== b(ctx);
  }
  if (op === 'And') {
    return (ctx) => {
      for (let i = 0; i < fns.length; i++) if (!fns[i](ctx)) return false;
      return true;
    };
  }
  if (op === 'Or') {
    return (ctx) => {
      for (let i = 0; i < fns.length; i++) if (fns[i](ctx)) return true;
      return false;
    };
  }
  return (ctx) => {
    let result = false;
    for (let i = 0; i < fns.length; i++) result = result !== fns[i](ctx);
    return result;
  };
}

function scalarOrdering(op: Exclude<Comparison['op'], 'IsTrue' | 'BitwiseAnd' | 'Contains' | 'Matches' | 'Wildcard' | 'Strict Wildcard' | 'OneOf' | 'InList'>, rhs: Bytes | Int): ElementTest {
  // Bytes are byte strings and Ints are normalised, so JS operators give bytewise / numeric order.
  switch (op) {
    case 'Equal':
      return (v) => v === rhs;
    case 'NotEqual':
      return (v) => v !== rhs;
    case 'GreaterThan':
      return (v) => (v as Bytes | Int) > rhs;
    case 'GreaterThanEqual':
      return (v) => (v as Bytes | Int) >= rhs;
    case 'LessThan':
      return (v) => (v as Bytes | Int) < rhs;
    case 'LessThanEqual':
      return (v) => (v as Bytes | Int) <= rhs;
  }
}

function ipOrdering(op: Parameters<typeof scalarOrdering>[0], rhs: Ip): ElementTest {
  return (v) => {
    const order = compareIp(v as Ip, rhs);
    if (order === undefined) return op === 'NotEqual';
    switch (op) {
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
  };
}

function bigAnd(value: Int, mask: Int): boolean {
  return BigInt.asIntN(64, BigInt(value) & BigInt(mask)) !== 0n;
}

/**
 * Membership in an inline set, whose elements all have the compared value's type: a few byte
 * strings compared in turn, more in a hash set; sorted merged ranges for integers and IPs.
 */
function setTest(elements: readonly SetElement[]): ElementTest {
  const bytes: Bytes[] = [];
  const ints: [Int, Int][] = [];
  const v4: [number, number][] = [];
  const v6: [bigint, bigint][] = [];
  for (const element of elements) {
    if (element.type === 'Bytes') bytes.push(element.value);
    else if (element.type === 'Int') ints.push([element.start, element.end]);
    else if (element.start.family === 4) v4.push([element.start.value, element.end.value as number]);
    else v6.push([element.start.value, element.end.value as bigint]);
  }
  if (bytes.length > 0) {
    const literals = fewBytes(elements);
    if (literals === undefined) {
      const set = new Set(bytes);
      return (v) => set.has(v as Bytes);
    }
    return (v) => {
      for (let k = 0; k < literals.length; k++) if (v === literals[k]) return true;
      return false;
    };
  }
  if (ints.length > 0) return rangeTest(mergeRanges(ints)) as ElementTest;
  const ranges4 = mergeRanges(v4);
  const test6 = rangeTest(mergeRanges(v6));
  if (ranges4.length > FEW) {
    const test4 = rangeTest(ranges4);
    return (v) => ((v as Ip).family === 4 ? test4((v as Ip).value as number) : test6((v as Ip).value as bigint));
  }
  // The common case, a few IPv4 ranges, scanned here without another call.
  const bounds4 = ranges4.flat();
  return (v) => {
    const ip = v as Ip;
    if (ip.family !== 4) return test6(ip.value);
    const x = ip.value;
    for (let i = 0; i < bounds4.length; i += 2) if (x >= bounds4[i] && x <= bounds4[i + 1]) return true;
    return false;
  };
}

/** Membership in sorted, merged ranges. */
function rangeTest<T extends number | bigint>(ranges: [T, T][]): (value: T) => boolean {
  if (ranges.length > FEW) return (value) => inRanges(ranges, value);
  const bounds = ranges.flat();
  return (value) => {
    for (let i = 0; i < bounds.length; i += 2) if (value >= bounds[i] && value <= bounds[i + 1]) return true;
    return false;
  };
}

function applyIndex(value: Value, index: Index): MaybeValue {
  if (index.kind === 'ArrayIndex') return (value as readonly Value[])[index.value];
  return (value as ByteMap).get((index as { value: Bytes }).value);
}

/** Calls `visit` for every element of an array, or every value of a map in key order. */
function forEachElement(container: Value, visit: (element: Value) => void): void {
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) visit(container[i] as Value);
  } else {
    for (const element of (container as ByteMap).values()) visit(element);
  }
}

function mapElements(container: MaybeValue, test: (element: Value) => boolean): boolean[] {
  if (container === undefined) return [];
  const out: boolean[] = [];
  forEachElement(container, (e) => out.push(test(e)));
  return out;
}

/** Depth-first over every combination of `[*]`; elements where a later fixed index is missing are skipped. */
function visitMapEach(value: Value, indexes: readonly Index[], from: number, visit: (element: Value) => void): void {
  if (from === indexes.length) {
    visit(value);
    return;
  }
  const index = indexes[from];
  if (index.kind === 'MapEach') {
    forEachElement(value, (e) => visitMapEach(e, indexes, from + 1, visit));
    return;
  }
  const child = applyIndex(value, index);
  if (child !== undefined) visitMapEach(child, indexes, from + 1, visit);
}
