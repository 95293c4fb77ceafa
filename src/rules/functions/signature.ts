// Declarative argument lists for the standard functions: the argument kinds, types and literal
// domains of SPEC.md section 11, checked in the order the parser reports them (kind, type, value).
import type { FunctionDefinition, FunctionImpl, Param, ParamError } from '../function.ts';
import type { Type, Value } from '../values.ts';

/** `field`: not a literal; `literal`: a constant; `any`: either. */
export type ArgumentKind = 'field' | 'literal' | 'any';

export interface ArgumentSpec {
  readonly kind: ArgumentKind;
  /** Accepted types as error details print them; `Array<_>` accepts every array type. */
  readonly types: readonly string[];
  /** For a literal: whether its value is in the argument's domain, given the earlier arguments (which passed their checks). */
  readonly accepts?: (value: Value, previous: readonly Param[]) => boolean;
}

export interface Signature {
  readonly name: string;
  /** Mandatory arguments first, then optional ones. */
  readonly arguments: readonly ArgumentSpec[];
  readonly minArgs: number;
  /** The last argument may repeat without bound. */
  readonly variadic?: boolean;
  readonly returns: Type;
  compile(params: readonly Param[]): FunctionImpl;
}

export function defineFunction(signature: Signature): FunctionDefinition {
  const specs = signature.arguments;
  return {
    name: signature.name,
    minArgs: signature.minArgs,
    optionalArgs: signature.variadic ? null : specs.length - signature.minArgs,
    checkParam: (index, param, previous) => checkArgument(specs[Math.min(index, specs.length - 1)], param, previous),
    returnType: () => signature.returns,
    compile: signature.compile,
  };
}

export function checkArgument(spec: ArgumentSpec, param: Param, previous: readonly Param[]): ParamError | undefined {
  if (spec.kind === 'field' && param.kind === 'Literal') return { error: 'invalid_argument_kind', expected: 'Field' };
  if (spec.kind === 'literal' && param.kind === 'Field') return { error: 'invalid_argument_kind', expected: 'Literal' };
  if (!spec.types.some((type) => typeMatches(type, param.type))) {
    return { error: 'invalid_argument_type', expected: spec.types };
  }
  if (spec.accepts !== undefined && param.kind === 'Literal' && !spec.accepts(param.value, previous)) {
    return { error: 'invalid_argument_value' };
  }
  return undefined;
}

function typeMatches(accepted: string, actual: Type): boolean {
  return accepted === 'Array<_>' ? actual.startsWith('Array<') : accepted === actual;
}

/** The value of a literal argument (checkParam has ensured it is one). */
export function literalValue(param: Param): Value {
  if (param.kind !== 'Literal') throw new TypeError('expected a literal argument');
  return param.value;
}

export const field = (...types: string[]): ArgumentSpec => ({ kind: 'field', types });
export const literal = (types: readonly string[], accepts?: ArgumentSpec['accepts']): ArgumentSpec => ({
  kind: 'literal',
  types,
  accepts,
});

/** Whether an Int value lies in `min..max` (inclusive). */
export function intInRange(value: Value, min: number, max: number): boolean {
  return (typeof value === 'number' || typeof value === 'bigint') && value >= min && value <= max;
}
