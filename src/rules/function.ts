// The function mechanism (SPEC.md section 10): how the parser checks a call's arguments and how a
// compiled filter calls the implementation.
import type { MaybeValue, Type, Value } from './values.ts';

/** What the parser knows about one argument while checking a call. */
export type Param =
  /** A constant: a string, integer or IP literal. */
  | { readonly kind: 'Literal'; readonly type: Type; readonly value: Value }
  /** Anything else (a field, an indexed value, a nested call, a logical sub-expression): its type only. */
  | { readonly kind: 'Field'; readonly type: Type };

/** Why `checkParam` rejected an argument; the parser adds the span and `detail.index`. */
export type ParamError =
  | { readonly error: 'invalid_argument_kind'; readonly expected: 'Field' | 'Literal' }
  /** `expected` lists type names as details print them (`Array<_>` = any array). */
  | { readonly error: 'invalid_argument_type'; readonly expected: readonly string[] }
  | { readonly error: 'invalid_argument_value' };

/**
 * The implementation of one call site, made once by `compile`: it receives every argument as a
 * value or `undefined` (missing) and returns a value or `undefined` (no result). It never throws.
 */
export type FunctionImpl = (args: readonly MaybeValue[]) => MaybeValue;

export interface FunctionDefinition {
  readonly name: string;
  /** Mandatory arguments. */
  readonly minArgs: number;
  /** Optional arguments after the mandatory ones; null = unbounded. */
  readonly optionalArgs: number | null;
  /** Checks argument `index` given the arguments before it; undefined when it is acceptable. */
  checkParam(index: number, param: Param, previous: readonly Param[]): ParamError | undefined;
  /** The result type for these (already checked) arguments. */
  returnType(params: readonly Param[]): Type;
  /** Prepares the call once (regexes, patterns, sets); literal values are in `params`. */
  compile(params: readonly Param[]): FunctionImpl;
}
