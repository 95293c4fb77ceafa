// Named lists for `x in $name` (SPEC.md 12): IP lists (addresses, CIDRs, ranges), integer lists
// (values, ranges) and byte-string lists, compiled once into sorted ranges or hash sets.
import type { SetElement } from './ast.ts';
import type { ListMatchers } from './context.ts';
import { parseIpRange } from './ip.ts';
import { normalizeInt, type Bytes, type Int, type Ip } from './values.ts';

export type ListType = 'Ip' | 'Int' | 'Bytes';

export interface ListDefinition {
  readonly type: ListType;
  /** Ip: "10.0.0.0/8", "10.0.0.1..10.0.0.9", "::1"; Int: 80 or "1000..1999"; Bytes: the bytes. */
  readonly items: readonly (string | number)[];
}

/** Why an item cannot be used, with its position in the list. */
export class ListItemError extends Error {
  readonly list: string;
  readonly item: number;
  constructor(list: string, item: number, message: string) {
    super(`list "${list}", item ${item}: ${message}`);
    this.name = 'ListItemError';
    this.list = list;
    this.item = item;
  }
}

/** Compiles the lists; throws ListItemError for an item that is not of the list's type. */
export function compileLists(lists: ReadonlyMap<string, ListDefinition>): ListMatchers {
  const ip = new Map<string, { v4: [number, number][]; v6: [bigint, bigint][] }>();
  const int = new Map<string, [Int, Int][]>();
  const bytes = new Map<string, Set<Bytes>>();
  for (const [name, list] of lists) {
    if (list.type === 'Ip') {
      const v4: [number, number][] = [];
      const v6: [bigint, bigint][] = [];
      list.items.forEach((item, i) => {
        const range = parseIpRange(String(item));
        if (range === undefined) throw new ListItemError(name, i, `"${item}" is not an IP address, a CIDR with zero host bits, or a range a..b of one family`);
        if (range[0].family === 4) v4.push([range[0].value, range[1].value as number]);
        else v6.push([range[0].value, range[1].value as bigint]);
      });
      ip.set(name, { v4: mergeRanges(v4), v6: mergeRanges(v6) });
    } else if (list.type === 'Int') {
      int.set(name, mergeRanges(list.items.map((item, i) => intRange(name, i, item))));
    } else {
      bytes.set(name, new Set(list.items.map(String)));
    }
  }
  return {
    Ip: (name: string, value: Ip) => {
      const list = ip.get(name);
      if (list === undefined) return false;
      return value.family === 4 ? inRanges(list.v4, value.value) : inRanges(list.v6, value.value);
    },
    Int: (name: string, value: Int) => {
      const list = int.get(name);
      return list !== undefined && inRanges(list, value);
    },
    Bytes: (name: string, value: Bytes) => bytes.get(name)?.has(value) ?? false,
  };
}

function intRange(list: string, index: number, item: string | number): [Int, Int] {
  const text = String(item);
  const dots = text.indexOf('..');
  const parse = (part: string): Int => {
    if (!/^-?[0-9]+$/.test(part)) throw new ListItemError(list, index, `"${item}" is not an integer or a range a..b`);
    const value = BigInt(part);
    if (value < -(1n << 63n) || value >= 1n << 63n) throw new ListItemError(list, index, `"${item}" does not fit in a 64-bit integer`);
    return normalizeInt(value);
  };
  if (dots === -1) {
    const value = parse(text);
    return [value, value];
  }
  const range: [Int, Int] = [parse(text.slice(0, dots)), parse(text.slice(dots + 2))];
  if (range[1] < range[0]) throw new ListItemError(list, index, `the range "${item}" ends before it starts`);
  return range;
}

/** Sorts ranges and merges overlapping ones, for binary search. */
export function mergeRanges<T extends number | bigint>(ranges: [T, T][]): [T, T][] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: [T, T][] = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) {
      if (end > last[1]) last[1] = end;
    } else merged.push([start, end]);
  }
  return merged;
}

/** Binary search in sorted, merged ranges. */
export function inRanges(ranges: readonly (readonly [number | bigint, number | bigint])[], value: number | bigint): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const range = ranges[mid];
    if (value < range[0]) high = mid - 1;
    else if (value > range[1]) low = mid + 1;
    else return true;
  }
  return false;
}

/** Sets this small are scanned: cheaper than hashing the value or a binary search. */
export const FEW = 4;

/** The distinct byte strings of a set of at most FEW of them, else undefined. */
export function fewBytes(elements: readonly SetElement[]): readonly Bytes[] | undefined {
  if (elements.length === 0 || elements[0].type !== 'Bytes') return undefined;
  const literals = [...new Set(elements.map((element) => (element as { value: Bytes }).value))];
  return literals.length <= FEW ? literals : undefined;
}
