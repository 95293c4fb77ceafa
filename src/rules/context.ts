// The execution context (SPEC.md 1.4): one request's field values. Values are computed lazily
// by a source the first time a filter reads them and kept for the rest of the request, so a
// field that no rule reads is never computed and one read by many rules is computed once.
import type { Field, Scheme } from './scheme.ts';
import type { Bytes, Int, Ip, MaybeValue, Type } from './values.ts';

/** Computes one field's value for the current request (undefined = absent). */
export type FieldSource = (field: Field) => MaybeValue;

/** List matchers by value type (SPEC 12): is `value` in the list called `name`? */
export interface ListMatchers {
  readonly Ip?: (name: string, value: Ip) => boolean;
  readonly Int?: (name: string, value: Int) => boolean;
  readonly Bytes?: (name: string, value: Bytes) => boolean;
}

/** Marks a field whose value has not been asked for yet. */
const UNSET: unique symbol = Symbol('unset');

export class ExecutionContext {
  readonly scheme: Scheme;
  readonly lists: ListMatchers;
  readonly #values: (MaybeValue | typeof UNSET)[];
  #source: FieldSource | undefined;
  /**
   * Per-request memo of shared sub-expressions (a rule set's derived values and repeated
   * comparisons): slot i is valid while memoGeneration[i] equals `generation`, so a new request
   * invalidates every slot by bumping one counter instead of clearing arrays.
   */
  readonly memo: unknown[];
  readonly memoGeneration: Uint32Array;
  generation = 1;
  /** A rule set's atoms decided for this request (see prefilter.ts): bit i = atom i holds. */
  readonly atoms: Int32Array;

  constructor(scheme: Scheme, options: { source?: FieldSource; lists?: ListMatchers; memoSlots?: number; atomWords?: number } = {}) {
    this.scheme = scheme;
    this.lists = options.lists ?? {};
    this.#source = options.source;
    this.#values = new Array(scheme.fields.length).fill(UNSET);
    this.memo = new Array(options.memoSlots ?? 0).fill(undefined);
    this.memoGeneration = new Uint32Array(options.memoSlots ?? 0);
    this.atoms = new Int32Array(options.atomWords ?? 0);
  }

  /** Sets a field's value directly (overrides the source). */
  set(name: string, value: MaybeValue): this {
    const field = this.scheme.field(name);
    if (field === undefined) throw new Error(`unknown field "${name}"`);
    this.#values[field.index] = value;
    return this;
  }

  /** Forgets every value and takes a new source: the context is reused for the next request. */
  reset(source?: FieldSource): void {
    this.#values.fill(UNSET);
    this.#source = source;
    if (++this.generation === 0xffffffff) {
      this.generation = 1;
      this.memoGeneration.fill(0);
    }
  }

  /** The value of the field at `index` (hot path). */
  get(index: number): MaybeValue {
    const value = this.#values[index];
    return value !== UNSET ? value : this.#load(index);
  }

  #load(index: number): MaybeValue {
    const value = this.#source === undefined ? undefined : this.#source(this.scheme.fields[index]);
    this.#values[index] = value;
    return value;
  }
}

export type ListType = keyof ListMatchers & Type;
