// The rule-set prefilter: many comparisons decided in one pass per value, before any rule runs.
//
// Atoms. Every comparison of a value with literals — `contains`, `eq`, `in {…}` on byte strings,
// `eq`/`ne`/`<`/`in {…}` on integers and IPs — is an exact atom, and so is `any(x[*] <such a
// test>)`. Per request, each value that atoms read is read once (memoized, so rules reuse it) and
// tested against all its literals together: one Aho–Corasick pass for the substrings, one hash
// lookup for equality, one binary search over precomputed range segments. The result is a bitmap
// of the atoms that hold, and the rules (rule-program.ts) read an atom's bit instead of comparing.
//
// Tested atoms. A regex or wildcard comparison is an exact atom too, decided by running it once
// per value — and only when the value holds a literal every match contains (one of its needles,
// inexact atoms of the same pass), so most never run. Rules then read it as a bit like the others.
// `starts_with`/`ends_with` keep their needle as a guard in front of the call.
//
// Remembered outcomes. A byte-string value's searches and tests depend on the value alone, and
// the values that cost most repeat from request to request (user agents, paths, hosts,
// referrers): per source, the atoms a value decided are kept for the next request that has the
// same value (a bounded map, cleared when full; long values are not kept).
import { comparisonKey, valueKey, type Comparison, type IndexExpr, type LogicalExpr, type OrderingOp } from './ast.ts';
import { bitList, setBits, type BitList } from './bit-list.ts';
import type { ValueFn } from './compile.ts';
import type { Regex } from './regex/index.ts';
import type { ExecutionContext } from './context.ts';
import { MultiSearch } from './multi-search.ts';
import type { ByteMap, Bytes, Int, Ip, Type, Value } from './values.ts';

type Bound = number | bigint;

type Condition =
  /** `folded`: ASCII case ignored (the literal is lower case and has no Latin-1 letter, see `foldsAlike`). */
  | { readonly kind: 'contains'; readonly folded: boolean; readonly literal: Bytes }
  | { readonly kind: 'equals'; readonly folded: boolean; readonly literal: Bytes }
  | { readonly kind: 'range'; readonly family: 'int' | 4 | 6; readonly start: Bound; readonly end: Bound }
  /** The value is there (any value). */
  | { readonly kind: 'present' }
  /** The value is the Bool true. */
  | { readonly kind: 'true' }
  /**
   * The value passes `test` (a regex or wildcard), run only when the value holds one of
   * `needles` (literals one of which every match contains), if there are any.
   */
  | { readonly kind: 'test'; readonly test: (value: Bytes) => boolean; readonly needles: readonly Needle[] };

interface Needle {
  readonly literal: Bytes;
  /** Searched ignoring ASCII case (the literal is lower case). */
  readonly folded: boolean;
}

interface Atom {
  readonly id: number;
  /** The value the conditions are on; with `each`, every element of it. */
  readonly source: IndexExpr;
  readonly each: boolean;
  /** With `each`: the atom holds when the conditions hold for every element (`all(x[*] …)`), not for some. */
  readonly all: boolean;
  /** True when the atom decides the comparison (not only is necessary for it). */
  readonly exact: boolean;
  /**
   * The atom decides the comparison inversely (`ne`): the comparison holds when the atom does
   * not — and, where a missing value makes `ne` false, when the `presence` atom holds.
   */
  readonly negated: boolean;
  readonly presence: number | undefined;
  /** The atom holds when any condition does. */
  readonly conditions: readonly Condition[];
}

interface SourceGroup {
  readonly source: IndexExpr;
  readonly each: boolean;
  readonly contains: Map<Bytes, number[]>;
  readonly folded: Map<Bytes, number[]>;
  readonly equals: Map<Bytes, number[]>;
  readonly foldedEquals: Map<Bytes, number[]>;
  readonly present: number[];
  readonly truthy: number[];
  readonly ranges: Record<'int' | '4' | '6', { start: Bound; end: Bound; atom: number }[]>;
  readonly tests: TestedAtom[];
  readonly atoms: number[];
  readonly alls: number[];
}

/** An atom decided by running its test, when one of its needles' atoms (`guards`; none: always) holds. */
interface TestedAtom {
  readonly atom: number;
  readonly guards: readonly number[];
  readonly test: (value: Bytes) => boolean;
}

/** One value the prefilter reads, with every literal atoms compare it with. */
interface Source {
  readonly expr: IndexExpr;
  /** Computes the value; `slot` is its memo slot (ExecutionContext.memo) when rules read it too. */
  readonly compute: ValueFn;
  readonly slot: number | undefined;
  /** The value's type (with `each`, its elements' type): the generated test handles only that type. */
  readonly type: Type;
  readonly each: boolean;
  /** The value's `toLowerCase()` is needed (folded equality literals). */
  readonly lowered: boolean;
  /**
   * All substrings at once. With folded literals it folds ASCII case (A–Z and a–z alike, as
   * `lower` does) and the case-sensitive literals with letters are verified against the value.
   */
  readonly search: MultiSearch | undefined;
  readonly searchAtoms: BitList[];
  readonly searchVerify: (Bytes | undefined)[];
  readonly equals: Map<Bytes, BitList> | undefined;
  readonly foldedEquals: Map<Bytes, BitList> | undefined;
  readonly present: BitList;
  readonly truthy: BitList;
  readonly int: RangeIndex | undefined;
  readonly ipv4: RangeIndex | undefined;
  readonly ipv6: RangeIndex | undefined;
  /** Run after the literal atoms, which hold their guards. */
  readonly tests: readonly TestedAtom[];
  /** For `all(x[*] …)` atoms: elements are tested one by one. */
  readonly alls: AllAtoms | undefined;
  /** The bitmap words its atoms occupy (consecutive, see `#renumberBySource`). */
  readonly firstWord: number;
  readonly wordCount: number;
}

/**
 * The bitmap words a source's atoms occupy, with the `all` atoms' bits in each: every element is
 * tested into a scratch bitmap; an `all` atom that an element misses fails.
 */
interface AllAtoms {
  readonly words: Int32Array;
  readonly allMasks: Int32Array;
  readonly failed: Int32Array;
}

export class Prefilter {
  readonly #atoms = new Map<string, Atom>();
  #byId: Atom[] = [];
  readonly #nilNotEqual: boolean;
  #sources: Source[] = [];
  #scratch = new Int32Array(0);

  constructor(roots: readonly LogicalExpr[], nilNotEqual: boolean) {
    this.#nilNotEqual = nilNotEqual;
    roots.forEach((root) => this.#registerAll(root));
    this.#renumberBySource();
  }

  /** Words of the per-request atom bitmap (ExecutionContext.atoms). */
  get atomWords(): number {
    return Math.ceil(this.#atoms.size / 32) || 1;
  }

  /** The values the prefilter reads (the rule set memoizes them so that rules reuse them). */
  get sourceExprs(): IndexExpr[] {
    return [...this.#groups().values()].map((group) => group.source);
  }

  /** The bit of an exact atom for this comparison (`each`: for `any(lhs op rhs)`), if there is one. */
  exactAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined {
    const atom = this.#atoms.get(atomKey(lhs, comparison, each));
    return atom !== undefined && atom.exact && !atom.negated ? atom.id : undefined;
  }

  /** The bit of the atom that decides `all(lhs[*] comparison)`, if there is one. */
  allAtom(lhs: IndexExpr, comparison: Comparison): number | undefined {
    return this.#atoms.get(`all ${atomKey(lhs, comparison, true)}`)?.id;
  }

  /** The atom that decides this comparison inversely (`x ne "a"`), with the presence atom it needs. */
  negatedAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): { atom: number; presence: number | undefined } | undefined {
    const atom = this.#atoms.get(atomKey(lhs, comparison, each));
    return atom !== undefined && atom.negated ? { atom: atom.id, presence: atom.presence } : undefined;
  }

  /** The bit of an inexact atom for this comparison: when it does not hold, neither does the comparison. */
  guardAtom(lhs: IndexExpr, comparison: Comparison, each: boolean): number | undefined {
    const atom = this.#atoms.get(atomKey(lhs, comparison, each));
    return atom !== undefined && !atom.exact ? atom.id : undefined;
  }

  /** Prepares the per-value tests, given how to compute each source value. */
  bind(value: (expr: IndexExpr) => { compute: ValueFn; slot: number | undefined }): void {
    this.#scratch = new Int32Array(this.atomWords);
    this.#sources = [...this.#groups().values()].map((group) => {
      const foldAscii = group.folded.size > 0;
      const literals: Bytes[] = [];
      const searchAtoms: BitList[] = [];
      const searchVerify: (Bytes | undefined)[] = [];
      for (const [literal, atoms] of group.folded) {
        literals.push(literal);
        searchAtoms.push(bitList(atoms));
        searchVerify.push(undefined);
      }
      for (const [literal, atoms] of group.contains) {
        literals.push(literal);
        searchAtoms.push(bitList(atoms));
        searchVerify.push(foldAscii && hasAsciiLetter(literal) ? literal : undefined);
      }
      const table = (map: Map<Bytes, number[]>) => (map.size === 0 ? undefined : new Map([...map].map(([literal, atoms]) => [literal, bitList(atoms)])));
      return {
        expr: group.source,
        ...value(group.source),
        type: group.source.type,
        each: group.each,
        lowered: group.foldedEquals.size > 0,
        search: literals.length > 0 ? new MultiSearch(literals, { foldAscii }) : undefined,
        searchAtoms,
        searchVerify,
        equals: table(group.equals),
        foldedEquals: table(group.foldedEquals),
        present: bitList(group.present),
        truthy: bitList(group.truthy),
        int: group.ranges.int.length > 0 ? new RangeIndex(group.ranges.int) : undefined,
        ipv4: group.ranges[4].length > 0 ? new RangeIndex(group.ranges[4]) : undefined,
        ipv6: group.ranges[6].length > 0 ? new RangeIndex(group.ranges[6]) : undefined,
        tests: group.tests,
        alls: group.alls.length > 0 ? allAtoms(group) : undefined,
        firstWord: Math.min(...group.atoms) >>> 5,
        wordCount: (Math.max(...group.atoms) >>> 5) - (Math.min(...group.atoms) >>> 5) + 1,
      };
    });
    this.#generateDecide();
  }

  /** Decides every atom for this request into `ctx.atoms`. */
  decide(ctx: ExecutionContext): void {
    this.#decide(ctx, ctx.atoms);
  }

  #decide: (ctx: ExecutionContext, hits: Int32Array) => void = () => {};
  #remembered: Remembered[] = [];

  /** Forgets the outcomes remembered per value (they are remembered again as values recur). */
  forgetValues(): void {
    for (const remembered of this.#remembered) remembered?.forget();
  }

  /**
   * The per-request pass, generated as one function: per source a call site for its value and
   * the tests its literals need for its value type, inline, with atom words and masks as
   * constants. Each call site then sees one function and one kind of value, so V8 keeps them
   * monomorphic (a loop over the sources made every call in it megamorphic).
   */
  #generateDecide(): void {
    let body = 'hits.fill(0);\nconst M = ctx.memo, G = ctx.memoGeneration, gen = ctx.generation;\nlet v, l, e, es;\n';
    const valueTests: ((value: Value, hits: Int32Array) => void)[] = [];
    const remembered: Remembered[] = [];
    const testValue = (source: Source, k: number) => {
      const build = new Function('S', 'setBits', `return function testValue(x, hits) {\nlet l, e;\n${testCode(source, k, 'x')}};`);
      return (valueTests[k] = build(this.#sources, setBits) as (value: Value, hits: Int32Array) => void);
    };
    this.#sources.forEach((source, k) => {
      const slot = source.slot;
      const compute = fieldReadCode(source.expr, k) ?? `v = S[${k}].compute(ctx);\n`;
      body += slot === undefined ? compute : `if (G[${slot}] === gen) v = M[${slot}];\nelse {\n${compute}M[${slot}] = v;\nG[${slot}] = gen;\n}\n`;
      if (source.alls !== undefined) {
        testValue(source, k);
        body += `decideAll(S[${k}].alls, T[${k}], v, hits, scratch);\n`;
      } else if (source.type === 'Bytes' && (source.search !== undefined || source.tests.length > 0 || source.lowered)) {
        // Searches, regexes and lowering cost most, and many values recur across requests (user
        // agents, paths, hosts, header names): their outcome is remembered per value.
        const { firstWord, wordCount } = source;
        remembered[k] = new Remembered(testValue(source, k), firstWord, wordCount);
        let test = `if (R[${k}].direct === 0) {\ne = R[${k}].values.get(x);\nif (e === undefined) e = R[${k}].miss(x, scratch);\nelse R[${k}].hits++;\n`;
        for (let w = 0; w < wordCount; w++) test += `hits[${firstWord + w}] |= e[${w}];\n`;
        test += `} else {\nR[${k}].direct--;\n${testCode(source, k, 'x')}}\n`;
        body += source.each
          ? `if (v !== undefined) {\nes = distinctElements(v);\nfor (let i = 0; i < es.length; i++) {\nconst x = es[i];\n${test}}\n}\n`
          : `if (v !== undefined) {\nconst x = v;\n${test}}\n`;
      } else if (!source.each) {
        body += `if (v !== undefined) {\n${testCode(source, k, 'v')}}\n`;
      } else {
        body += `if (v !== undefined) {\nes = distinctElements(v);\nfor (let i = 0; i < es.length; i++) {\nconst x = es[i];\n${testCode(source, k, 'x')}}\n}\n`;
      }
    });
    const build = new Function('S', 'T', 'R', 'scratch', 'setBits', 'decideAll', 'distinctElements', `return function decide(ctx, hits) {\n${body}};`);
    this.#remembered = remembered;
    this.#decide = build(this.#sources, valueTests, remembered, this.#scratch, setBits, decideAll, distinctElements) as (ctx: ExecutionContext, hits: Int32Array) => void;
  }

  #groups(): Map<string, SourceGroup> {
    const groups = new Map<string, SourceGroup>();
    for (const atom of this.#byId) {
      const key = `${atom.each ? '*' : ''}${valueKey(atom.source)}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { source: atom.source, each: atom.each, contains: new Map(), folded: new Map(), equals: new Map(), foldedEquals: new Map(), present: [], truthy: [], ranges: { int: [], 4: [], 6: [] }, tests: [], atoms: [], alls: [] };
        groups.set(key, group);
      }
      group.atoms.push(atom.id);
      if (atom.all) group.alls.push(atom.id);
      for (const condition of atom.conditions) {
        if (condition.kind === 'range') group.ranges[condition.family].push({ start: condition.start, end: condition.end, atom: atom.id });
        else if (condition.kind === 'present') group.present.push(atom.id);
        else if (condition.kind === 'true') group.truthy.push(atom.id);
        else if (condition.kind === 'test') group.tests.push({ atom: atom.id, guards: condition.needles.map((needle) => this.#needleAtom(atom.source, atom.each, needle)), test: condition.test });
        else if (condition.kind === 'equals') append(condition.folded ? group.foldedEquals : group.equals, condition.literal, atom.id);
        else append(condition.folded ? group.folded : group.contains, condition.literal, atom.id);
      }
    }
    return groups;
  }

  /** The atom for a comparison, registered on first sight; undefined when it has no literal conditions. */
  #atom(lhs: IndexExpr, comparison: Comparison, quantifier: 'Any' | 'All' | undefined): Atom | undefined {
    let source = lhs;
    let each = false;
    if (lhs.mapEachCount > 0) {
      const last = lhs.indexes.length - 1;
      if (quantifier === undefined || lhs.mapEachCount !== 1 || lhs.indexes[last].kind !== 'MapEach') return undefined;
      source = { ...lhs, indexes: lhs.indexes.slice(0, last), mapEachCount: 0 };
      each = true;
    }
    const all = each && quantifier === 'All';
    const key = `${all ? 'all ' : ''}${atomKey(lhs, comparison, each)}`;
    const known = this.#atoms.get(key);
    if (known !== undefined) return known;
    const found = conditions(lhs, comparison);
    // any(x[*] ne "a") is not the negation of any(x[*] eq "a"); `all` needs conditions that decide each element.
    if (found === undefined || (found.negated && each) || (all && (!found.exact || found.source !== undefined))) return undefined;
    const negated = found.negated === true;
    const target = found.source ?? source;
    const lowered = throughLower(target, each, found.conditions);
    const on = lowered?.source ?? target;
    const presence = negated && !this.#nilNotEqual ? this.#presence(on) : undefined;
    const added = this.#add(key, { source: on, each, all, exact: found.exact, negated, presence, conditions: lowered?.conditions ?? found.conditions });
    for (const condition of added.conditions) if (condition.kind === 'test') condition.needles.forEach((needle) => this.#needleAtom(on, each, needle));
    return added;
  }

  /** The inexact atom that holds when `source` (an element of it, with `each`) contains the needle. */
  #needleAtom(source: IndexExpr, each: boolean, needle: Needle): number {
    const key = `needle ${each ? '*' : ''}${needle.folded ? 'i' : 's'}${valueKey(source)} ${needle.literal}`;
    const known = this.#atoms.get(key);
    if (known !== undefined) return known.id;
    return this.#add(key, { source, each, all: false, exact: false, negated: false, presence: undefined, conditions: [{ kind: 'contains', folded: needle.folded, literal: needle.literal }] }).id;
  }

  /** The atom that holds when `source` has a value. */
  #presence(source: IndexExpr): number {
    const key = `present ${valueKey(source)}`;
    return (this.#atoms.get(key) ?? this.#add(key, { source, each: false, all: false, exact: true, negated: false, presence: undefined, conditions: [{ kind: 'present' }] })).id;
  }

  /**
   * Gives each source's atoms consecutive ids, its `all` atoms last: a value's atoms then occupy
   * few bitmap words, and `decideAll` clears and merges only those for every element.
   */
  #renumberBySource(): void {
    const keyOf = (atom: Atom) => `${atom.each ? '*' : ''}${valueKey(atom.source)}`;
    const firstSeen = new Map<string, number>();
    for (const atom of this.#byId) if (!firstSeen.has(keyOf(atom))) firstSeen.set(keyOf(atom), firstSeen.size);
    const rank = (atom: Atom) => 2 * firstSeen.get(keyOf(atom))! + (atom.all ? 1 : 0);
    const order = this.#byId.map((atom) => ({ atom, rank: rank(atom) })).sort((a, b) => a.rank - b.rank || a.atom.id - b.atom.id);
    const newId = new Int32Array(order.length);
    order.forEach(({ atom }, id) => (newId[atom.id] = id));
    this.#byId = order.map(({ atom }, id) => ({ ...atom, id, presence: atom.presence === undefined ? undefined : newId[atom.presence] }));
    for (const [key, atom] of this.#atoms) this.#atoms.set(key, this.#byId[newId[atom.id]]);
  }

  #add(key: string, atom: Omit<Atom, 'id'>): Atom {
    const added: Atom = { id: this.#atoms.size, ...atom };
    this.#atoms.set(key, added);
    this.#byId.push(added);
    return added;
  }

  /** Walks everything (under `not` and `xor` too) so that every eligible comparison gets an atom. */
  #registerAll(expr: LogicalExpr, quantifier?: 'Any' | 'All'): void {
    switch (expr.kind) {
      case 'parenthesized':
        return this.#registerAll(expr.expr, quantifier);
      case 'not':
        return this.#registerAll(expr.arg, quantifier);
      case 'combining':
        return expr.items.forEach((item) => this.#registerAll(item, quantifier));
      case 'quantifier':
        if (expr.arg.kind === 'SimpleExpr') this.#registerAll(expr.arg.value, unwrap(expr.arg.value).kind === 'comparison' ? expr.op : undefined);
        return;
      case 'comparison':
        this.#atom(expr.lhs, expr.comparison, quantifier);
    }
  }
}

function atomKey(lhs: IndexExpr, comparison: Comparison, each: boolean): string {
  return `${each ? '*' : ''}${comparisonKey(lhs, comparison)}`;
}

function unwrap(expr: LogicalExpr): LogicalExpr {
  return expr.kind === 'parenthesized' ? unwrap(expr.expr) : expr;
}

/**
 * Conditions on `lower(x)` as folded conditions on x, so that they join x's other literals in one
 * pass and `lower(x)` need not be computed for them: substrings are searched ignoring ASCII case,
 * equality compares x's `toLowerCase()`. `lower` maps only A–Z while `toLowerCase` also maps
 * Latin-1 letters; the two agree wherever a literal has neither.
 */
function throughLower(expr: IndexExpr, each: boolean, found: readonly Condition[]): { source: IndexExpr; conditions: Condition[] } | undefined {
  if (expr.mapEachCount !== 0 || expr.indexes.length !== 0 || 'index' in expr.base || expr.base.definition.name !== 'lower') return undefined;
  const arg = expr.base.args[0];
  if (arg?.kind !== 'IndexExpr') return undefined;
  // With `each`, lower(x[*]) is x's elements lowered one by one: the conditions go on x's elements.
  const inner = arg.value;
  let source: IndexExpr;
  if (!each && inner.mapEachCount === 0) source = inner;
  else if (each && inner.mapEachCount === 1 && inner.indexes[inner.indexes.length - 1]?.kind === 'MapEach') source = { ...inner, indexes: inner.indexes.slice(0, -1), mapEachCount: 0 };
  else return undefined;
  const conditions: Condition[] = [];
  for (const condition of found) {
    if (condition.kind !== 'contains' && condition.kind !== 'equals') return undefined;
    if (!condition.folded && !foldsAlike(condition.literal)) return undefined;
    conditions.push({ ...condition, folded: true });
  }
  return { source, conditions };
}

function hasAsciiLetter(literal: Bytes): boolean {
  for (let i = 0; i < literal.length; i++) {
    const c = literal.charCodeAt(i) | 0x20;
    if (c >= 0x61 && c <= 0x7a) return true;
  }
  return false;
}

/** No ASCII upper-case letter and no Latin-1 letter. */
function foldsAlike(literal: Bytes): boolean {
  for (let i = 0; i < literal.length; i++) {
    const c = literal.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xfe && c !== 0xd7 && c !== 0xf7)) return false;
  }
  return true;
}

function append(map: Map<Bytes, number[]>, literal: Bytes, atom: number): void {
  const atoms = map.get(literal);
  if (atoms === undefined) map.set(literal, [atom]);
  else if (atoms[atoms.length - 1] !== atom) atoms.push(atom);
}

/** Code for a field read with fixed indexes (`x`, `x["k"]`, `x["k"][0]`) into `v`; undefined for a function's value. */
function fieldReadCode(expr: IndexExpr, k: number): string | undefined {
  if (!('index' in expr.base) || expr.mapEachCount !== 0) return undefined;
  let code = `v = ctx.get(${expr.base.index});\n`;
  expr.indexes.forEach((index, j) => {
    code += index.kind === 'ArrayIndex' ? `if (v !== undefined) v = v[${index.value}];\n` : `if (v !== undefined) v = v.get(S[${k}].expr.indexes[${j}].value);\n`;
  });
  return code;
}

/** Code that sets the bits of `e`, a BitList. */
const SET_E = 'setBits(hits, e, 0);\n';

/** Code that sets the bits of a BitList known now, as constants. */
function constantBitsCode(list: BitList): string {
  let code = '';
  for (let i = 0; i < list.length; i += 2) code += `hits[${list[i]}] |= ${list[i + 1]};\n`;
  return code;
}

/**
 * Code that decides source k's atoms for `x` (a present value of the source's type) into `hits`;
 * `l` and `e` are scratch variables of the generated function.
 */
function testCode(source: Source, k: number, x: string): string {
  const at = `S[${k}]`;
  let code = constantBitsCode(source.present);
  switch (source.type) {
    case 'Bool':
      if (source.truthy.length > 0) code += `if (${x} === true) {\n${constantBitsCode(source.truthy)}}\n`;
      break;
    case 'Bytes': {
      if (source.lowered) code += `l = ${x}.toLowerCase();\n`;
      if (source.equals !== undefined) code += `e = ${at}.equals.get(${x});\nif (e !== undefined) ${SET_E}`;
      if (source.foldedEquals !== undefined) code += `e = ${at}.foldedEquals.get(l);\nif (e !== undefined) ${SET_E}`;
      if (source.search !== undefined) code += `${at}.search.mark(${x}, ${at}.searchAtoms, ${at}.searchVerify, hits);\n`;
      source.tests.forEach(({ atom, guards }, j) => {
        // Not run when the atom already holds (another element decided it) or every needle is absent.
        const guarded = guards.length === 0 ? '' : `(${guards.map((guard) => `(hits[${guard >>> 5}] & ${1 << (guard & 31)})`).join(' | ')}) !== 0 && `;
        code += `if (${guarded}(hits[${atom >>> 5}] & ${1 << (atom & 31)}) === 0 && ${at}.tests[${j}].test(${x})) hits[${atom >>> 5}] |= ${1 << (atom & 31)};\n`;
      });
      break;
    }
    case 'Int':
      if (source.int !== undefined) code += `${at}.int.add(${x}, hits);\n`;
      break;
    case 'Ip':
      if (source.ipv4 !== undefined) code += `if (${x}.family === 4) ${at}.ipv4.add(${x}.value, hits);\n`;
      if (source.ipv6 !== undefined) code += `if (${x}.family === 6) ${at}.ipv6.add(${x}.value, hits);\n`;
      break;
  }
  return code;
}

function allAtoms(group: SourceGroup): AllAtoms {
  const masks = new Map<number, number>();
  for (const atom of group.atoms) masks.set(atom >>> 5, masks.get(atom >>> 5) ?? 0);
  for (const atom of group.alls) masks.set(atom >>> 5, masks.get(atom >>> 5)! | (1 << (atom & 31)));
  return { words: Int32Array.from(masks.keys()), allMasks: Int32Array.from(masks.values()), failed: new Int32Array(masks.size) };
}

/**
 * Decides a source with `all` atoms: each element is tested into `scratch`; its other atoms are
 * copied to `hits`, and an `all` atom it misses fails. A missing value has no elements: every
 * `all` atom holds (SPEC 8.2).
 */
function decideAll(alls: AllAtoms, testElement: (element: Value, hits: Int32Array) => void, value: Value | undefined, hits: Int32Array, scratch: Int32Array): void {
  const { words, allMasks, failed } = alls;
  failed.fill(0);
  const elements = value === undefined ? NO_ELEMENTS : distinctElements(value);
  for (let i = 0; i < elements.length; i++) {
    for (let k = 0; k < words.length; k++) scratch[words[k]] = 0;
    testElement(elements[i], scratch);
    for (let k = 0; k < words.length; k++) {
      const got = scratch[words[k]];
      hits[words[k]] |= got & ~allMasks[k];
      failed[k] |= allMasks[k] & ~got;
    }
  }
  for (let k = 0; k < words.length; k++) hits[words[k]] |= allMasks[k] & ~failed[k];
}

const NO_ELEMENTS: readonly Value[] = [];

/** Values remembered per source: enough for a site's common user agents and paths, bounded in memory. */
const REMEMBERED_VALUES = 512;
const REMEMBERED_LENGTH = 512;
/** Lookups over which a source's hit rate is reviewed, and values then tested directly when it is below one half. */
const REVIEW_WINDOW = 256;
const DIRECT_SPAN = 4096;

/**
 * The outcomes remembered for one source's values: per value, the source's words of the atom
 * bitmap (words first .. first + count - 1, which only its atoms occupy). Worth it only where
 * values recur: a source whose lookups mostly miss (full URIs, query strings, cookies) is tested
 * directly for a while, then tried again.
 */
class Remembered {
  readonly values = new Map<Bytes, readonly number[]>();
  hits = 0;
  misses = 0;
  /** Values still to test directly (not looked up) before remembering is tried again. */
  direct = 0;
  readonly #testValue: (value: Value, hits: Int32Array) => void;
  readonly #first: number;
  readonly #count: number;

  constructor(testValue: (value: Value, hits: Int32Array) => void, first: number, count: number) {
    this.#testValue = testValue;
    this.#first = first;
    this.#count = count;
  }

  /** The outcome for a value not remembered: tested into `scratch` and remembered. */
  miss(value: Bytes, scratch: Int32Array): readonly number[] {
    const first = this.#first;
    const count = this.#count;
    scratch.fill(0, first, first + count);
    this.#testValue(value, scratch);
    // A plain array: a typed array's buffer costs several times more to allocate.
    const words = new Array<number>(count);
    for (let i = 0; i < count; i++) words[i] = scratch[first + i];
    if (value.length <= REMEMBERED_LENGTH) {
      if (this.values.size >= REMEMBERED_VALUES) this.values.clear();
      this.values.set(value, words);
    }
    if (++this.misses + this.hits >= REVIEW_WINDOW) {
      if (this.hits < this.misses) this.#forgetFor(DIRECT_SPAN);
      this.hits = this.misses = 0;
    }
    return words;
  }

  forget(): void {
    this.#forgetFor(0);
    this.hits = this.misses = 0;
  }

  #forgetFor(direct: number): void {
    this.values.clear();
    this.direct = direct;
  }
}

/**
 * The elements of an array or map value, each distinct one once: atoms depend only on an
 * element's value, so 4,000 repeated query arguments cost a handful of tests.
 */
function distinctElements(value: Value): readonly Value[] {
  const elements = Array.isArray(value) ? (value as readonly Value[]) : [...(value as ByteMap).values()];
  return elements.length <= 8 ? elements : [...new Set(elements)];
}

/**
 * Ranges cut the number line into segments at every start and end+1; each segment lists the
 * atoms whose ranges cover it, so a value costs one binary search and marking those atoms.
 */
class RangeIndex {
  readonly #points: Bound[];
  readonly #segments: BitList[];

  constructor(ranges: readonly { start: Bound; end: Bound; atom: number }[]) {
    const points = new Set<Bound>();
    for (const { start, end } of ranges) {
      if (start !== -Infinity) points.add(start);
      if (end !== Infinity) points.add(typeof end === 'bigint' ? end + 1n : end + 1);
    }
    this.#points = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const atoms: Set<number>[] = Array.from({ length: this.#points.length + 1 }, () => new Set());
    for (const { start, end, atom } of ranges) {
      const last = this.#segment(end);
      for (let s = start === -Infinity ? 0 : this.#segment(start); s <= last; s++) atoms[s].add(atom);
    }
    this.#segments = atoms.map(bitList);
  }

  /** The segment holding `value`: the number of points ≤ value. */
  #segment(value: Bound): number {
    const points = this.#points;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid] <= value) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  add(value: Bound, hits: Int32Array): void {
    setBits(hits, this.#segments[this.#segment(value)], 0);
  }
}

/** The literal conditions of one comparison, and whether they decide it exactly. */
function conditions(
  lhs: IndexExpr,
  comparison: Comparison,
): { conditions: Condition[]; exact: boolean; negated?: boolean; source?: IndexExpr } | undefined {
  const exact = (found: Condition[]) => ({ conditions: found, exact: true });
  const negated = (found: Condition[]) => ({ conditions: found, exact: true, negated: true });
  const range = (family: 'int' | 4 | 6, start: Bound, end: Bound): Condition => ({ kind: 'range', family, start, end });
  if (lhs.type === 'Bytes') {
    switch (comparison.op) {
      case 'Contains':
        return comparison.rhs.value.length === 0 ? undefined : exact([{ kind: 'contains', folded: false, literal: comparison.rhs.value }]);
      case 'Equal':
        return comparison.rhs.type === 'Bytes' ? exact([{ kind: 'equals', folded: false, literal: comparison.rhs.value }]) : undefined;
      case 'NotEqual':
        return comparison.rhs.type === 'Bytes' ? negated([{ kind: 'equals', folded: false, literal: comparison.rhs.value }]) : undefined;
      case 'OneOf':
        return exact(comparison.rhs.map((element) => ({ kind: 'equals', folded: false, literal: (element as { value: Bytes }).value })));
      case 'Matches': {
        const regex = comparison.rhs;
        return exact([{ kind: 'test', test: (value) => regex.test(value), needles: regexNeedles(regex) }]);
      }
      case 'Wildcard':
      case 'Strict Wildcard': {
        const wildcard = comparison.wildcard;
        const longest = wildcard.segments.reduce((a, b) => (b.length > a.length ? b : a), '');
        // With foldCase the segments are ASCII-lowered already, as the search folds.
        return exact([{ kind: 'test', test: (value) => wildcard.test(value), needles: longest.length === 0 ? [] : [{ literal: longest, folded: wildcard.foldCase }] }]);
      }
      default:
        return undefined;
    }
  }
  if (lhs.type === 'Int') {
    if (comparison.op === 'OneOf') {
      return exact(comparison.rhs.map((element) => {
        const e = element as { start: Int; end: Int };
        return range('int', e.start, e.end);
      }));
    }
    const v = isOrdering(comparison) && comparison.rhs.type === 'Int' ? comparison.rhs.value : undefined;
    if (typeof v !== 'number') return undefined;
    switch (comparison.op) {
      case 'Equal':
        return exact([range('int', v, v)]);
      case 'GreaterThan':
        return exact([range('int', v + 1, Infinity)]);
      case 'GreaterThanEqual':
        return exact([range('int', v, Infinity)]);
      case 'LessThan':
        return exact([range('int', -Infinity, v - 1)]);
      case 'LessThanEqual':
        return exact([range('int', -Infinity, v)]);
      case 'NotEqual':
        return negated([range('int', v, v)]);
      default:
        return undefined;
    }
  }
  if (lhs.type === 'Ip') {
    if (comparison.op === 'OneOf') {
      return exact(comparison.rhs.map((element) => {
        const e = element as { start: Ip; end: Ip };
        return range(e.start.family, e.start.value, e.end.value);
      }));
    }
    if ((comparison.op === 'Equal' || comparison.op === 'NotEqual') && comparison.rhs.type === 'Ip') {
      const ip = comparison.rhs.value;
      const found = [range(ip.family, ip.value, ip.value)];
      return comparison.op === 'Equal' ? exact(found) : negated(found);
    }
    return undefined;
  }
  if (lhs.type === 'Bool' && comparison.op === 'IsTrue' && lhs.mapEachCount === 0 && lhs.indexes.length === 0 && 'index' in lhs.base) {
    // A Bool field: reading it is cheap, so it is decided with the others (a function call is not: it may never be needed).
    return exact([{ kind: 'true' }]);
  }
  if (lhs.type === 'Bool' && comparison.op === 'IsTrue' && lhs.mapEachCount === 0 && lhs.indexes.length === 0 && !('index' in lhs.base)) {
    // starts_with(x, "a") / ends_with(x, "a") need x to contain "a".
    const call = lhs.base;
    const name = call.definition.name;
    const [subject, affix] = call.args;
    if ((name === 'starts_with' || name === 'ends_with') && subject?.kind === 'IndexExpr' && subject.value.mapEachCount === 0 && affix?.kind === 'Literal') {
      const literal = affix.value.value as Bytes;
      if (literal.length > 0) return { conditions: [{ kind: 'contains', folded: false, literal }], exact: false, source: subject.value };
    }
  }
  return undefined;
}

/**
 * Literals one of which every match of `regex` contains: the one string every match contains, or
 * else its set of required literals (alternatives such as `(bot|crawler)`), compared ignoring ASCII
 * case; none when there are neither. A folded `mustContain` is meant for the value's toLowerCase(),
 * which lowers Latin-1 letters too, while the search folds only ASCII: with such letters it is not used.
 */
function regexNeedles(regex: Regex): Needle[] {
  const must = regex.mustContain;
  if (must !== undefined && (!must.folded || foldsAlike(must.text))) return [{ literal: must.text, folded: must.folded }];
  return regex.requiredLiterals?.map((literal) => ({ literal, folded: true })) ?? [];
}

function isOrdering(comparison: Comparison): comparison is Extract<Comparison, { op: OrderingOp }> {
  return ORDERING.has(comparison.op);
}
const ORDERING = new Set<string>(['Equal', 'NotEqual', 'GreaterThanEqual', 'LessThanEqual', 'GreaterThan', 'LessThan']);
