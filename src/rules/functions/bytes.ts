// Functions over byte strings and arrays (SPEC.md 11.1, 11.2, 11.7).
import type { FunctionDefinition, FunctionImpl, ParamError } from '../function.ts';
import { asciiLowercase, asciiUppercase, type Bytes, type MaybeValue, type Value } from '../values.ts';
import { checkArgument, defineFunction, field, intInRange, literal, literalValue, type ArgumentSpec } from './signature.ts';

const concatFirst: ArgumentSpec = { kind: 'any', types: ['Bytes', 'Array<_>'] };

/** concat(v1: any Bytes|Array<_>, v2: any same type as v1, …) [WF]: missing arguments are skipped. */
export const concat: FunctionDefinition = {
  name: 'concat',
  minArgs: 2,
  optionalArgs: null,
  checkParam(index, param, previous): ParamError | undefined {
    return checkArgument(index === 0 ? concatFirst : { kind: 'any', types: [previous[0].type] }, param, previous);
  },
  returnType: (params) => params[0].type,
  compile: (params) => (params[0].type === 'Bytes' ? concatBytes : concatArrays),
};

function concatBytes(args: readonly MaybeValue[]): MaybeValue {
  let result: Bytes | undefined;
  for (const arg of args) {
    if (arg !== undefined) result = result === undefined ? (arg as Bytes) : result + (arg as Bytes);
  }
  return result;
}

function concatArrays(args: readonly MaybeValue[]): MaybeValue {
  let result: readonly Value[] | undefined;
  for (const arg of args) {
    if (arg !== undefined) result = result === undefined ? (arg as readonly Value[]) : result.concat(arg as readonly Value[]);
  }
  return result;
}

const affixFunction = (name: string, test: (subject: Bytes, affix: Bytes) => boolean): FunctionDefinition =>
  defineFunction({
    name,
    arguments: [field('Bytes'), literal(['Bytes'])],
    minArgs: 2,
    returns: 'Bool',
    compile(params) {
      const affix = literalValue(params[1]) as Bytes;
      return (args) => (args[0] === undefined ? undefined : test(args[0] as Bytes, affix));
    },
  });

export const startsWith = affixFunction('starts_with', (subject, affix) => subject.startsWith(affix));
export const endsWith = affixFunction('ends_with', (subject, affix) => subject.endsWith(affix));

const caseFunction = (name: string, map: (bytes: Bytes) => Bytes): FunctionDefinition => {
  const impl: FunctionImpl = (args) => (args[0] === undefined ? undefined : map(args[0] as Bytes));
  return defineFunction({ name, arguments: [field('Bytes')], minArgs: 1, returns: 'Bytes', compile: () => impl });
};

export const lower = caseFunction('lower', asciiLowercase);
export const upper = caseFunction('upper', asciiUppercase);

const lengthOf: FunctionImpl = (args) => (args[0] === undefined ? undefined : (args[0] as Bytes | readonly Value[]).length);

export const len = defineFunction({
  name: 'len',
  arguments: [field('Bytes', 'Array<_>')],
  minArgs: 1,
  returns: 'Int',
  compile: () => lengthOf,
});

/** remove_bytes(s, set): deletes every byte of `s` that occurs in `set` (a set, not a substring). */
export const removeBytes = defineFunction({
  name: 'remove_bytes',
  arguments: [field('Bytes'), literal(['Bytes'])],
  minArgs: 2,
  returns: 'Bytes',
  compile(params) {
    const set = literalValue(params[1]) as Bytes;
    if (set === '') return (args) => args[0];
    let byteClass = '';
    for (let i = 0; i < set.length; i++) byteClass += `\\x${set.charCodeAt(i).toString(16).padStart(2, '0')}`;
    // One character class: the native replace is linear and allocates nothing when no byte matches.
    const removable = new RegExp(`[${byteClass}]`, 'g');
    return (args) => (args[0] === undefined ? undefined : (args[0] as Bytes).replace(removable, ''));
  },
});

/** remove_query_args(q, n1, …): drops the `&`-separated parts whose name is one of the names. */
export const removeQueryArgs = defineFunction({
  name: 'remove_query_args',
  arguments: [field('Bytes'), literal(['Bytes'])],
  minArgs: 2,
  variadic: true,
  returns: 'Bytes',
  compile(params) {
    const names = new Set(params.slice(1).map((param) => literalValue(param) as Bytes));
    return (args) => (args[0] === undefined ? undefined : removeQueryArguments(args[0] as Bytes, names));
  },
});

function removeQueryArguments(query: Bytes, names: ReadonlySet<Bytes>): Bytes {
  const parts = query.split('&');
  const kept: Bytes[] = [];
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (!names.has(equals < 0 ? part : part.slice(0, equals))) kept.push(part);
  }
  return kept.length === parts.length ? query : kept.join('&');
}

export const join = defineFunction({
  name: 'join',
  arguments: [field('Array<Bytes>'), literal(['Bytes'])],
  minArgs: 2,
  returns: 'Bytes',
  compile(params) {
    const separator = literalValue(params[1]) as Bytes;
    return (args) => (args[0] === undefined ? undefined : (args[0] as readonly Bytes[]).join(separator));
  },
});

export const split = defineFunction({
  name: 'split',
  arguments: [
    field('Bytes'),
    literal(['Bytes'], (separator) => separator !== ''),
    literal(['Int'], (limit) => intInRange(limit, 1, 128)),
  ],
  minArgs: 3,
  returns: 'Array<Bytes>',
  compile(params) {
    const separator = literalValue(params[1]) as Bytes;
    const limit = Number(literalValue(params[2]));
    return (args) => (args[0] === undefined ? undefined : splitBytes(args[0] as Bytes, separator, limit));
  },
});

/** At most `limit` parts; the last one holds the unsplit remainder (unlike String.prototype.split). */
function splitBytes(subject: Bytes, separator: Bytes, limit: number): Bytes[] {
  const parts: Bytes[] = [];
  let start = 0;
  while (parts.length < limit - 1) {
    const found = subject.indexOf(separator, start);
    if (found < 0) break;
    parts.push(subject.slice(start, found));
    start = found + separator.length;
  }
  parts.push(subject.slice(start));
  return parts;
}

export const substring = defineFunction({
  name: 'substring',
  arguments: [field('Bytes'), literal(['Int']), literal(['Int'])],
  minArgs: 2,
  returns: 'Bytes',
  compile(params) {
    // Indexes beyond ±2^53 clamp like any other out-of-range index, so a Number suffices.
    const start = Number(literalValue(params[1]));
    const end = params.length > 2 ? Number(literalValue(params[2])) : undefined;
    return (args) => {
      const subject = args[0] as Bytes | undefined;
      if (subject === undefined) return undefined;
      const from = clampIndex(start, subject.length);
      const to = end === undefined ? subject.length : clampIndex(end, subject.length);
      return to <= from ? '' : subject.slice(from, to);
    };
  },
});

/** A negative index counts from the end; the result is clamped to 0..length. */
function clampIndex(index: number, length: number): number {
  return Math.min(Math.max(index < 0 ? length + index : index, 0), length);
}
