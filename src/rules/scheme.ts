// A scheme (SPEC.md 1): the fields, functions and list types an expression may use, and the
// missing-value behaviour of `!=`. Field and function names share one namespace.
import type { FunctionDefinition } from './function.ts';
import { nestingDepth, parseType, type Type } from './values.ts';

export interface SchemeOptions {
  /** Field name → type. */
  readonly fields: Readonly<Record<string, Type>>;
  readonly functions?: ReadonlyMap<string, FunctionDefinition>;
  /** Value types for which `x in $name` is allowed. */
  readonly lists?: readonly Type[];
  /** What `missing != x` gives (SPEC 9); the engine default is true. */
  readonly nilNotEqual?: boolean;
}

export interface Field {
  readonly name: string;
  readonly type: Type;
  /** Position of the field in the scheme: execution contexts store values by it. */
  readonly index: number;
}

const IDENTIFIER = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

export class Scheme {
  readonly fields: readonly Field[];
  readonly nilNotEqual: boolean;
  readonly #byName = new Map<string, Field | FunctionDefinition>();
  readonly #lists: ReadonlySet<Type>;

  constructor(options: SchemeOptions) {
    const fields: Field[] = [];
    for (const [name, type] of Object.entries(options.fields)) {
      if (!IDENTIFIER.test(name)) throw new Error(`scheme: "${name}" is not a valid field name (dotted segments of letters, digits and _)`);
      if (parseType(type) !== type) throw new Error(`scheme: field "${name}" has an unknown type "${type}"`);
      if (nestingDepth(type) > 32) throw new Error(`scheme: field "${name}" nests arrays/maps deeper than 32`);
      const field: Field = { name, type, index: fields.length };
      fields.push(field);
      this.#byName.set(name, field);
    }
    for (const [name, definition] of options.functions ?? []) {
      if (this.#byName.has(name)) throw new Error(`scheme: "${name}" is both a field and a function`);
      this.#byName.set(name, definition);
    }
    this.fields = fields;
    this.#lists = new Set(options.lists ?? []);
    this.nilNotEqual = options.nilNotEqual ?? true;
  }

  /** A field or function by its full dotted name. */
  lookup(name: string): Field | FunctionDefinition | undefined {
    return this.#byName.get(name);
  }

  field(name: string): Field | undefined {
    const found = this.#byName.get(name);
    return found !== undefined && 'index' in found ? found : undefined;
  }

  hasList(type: Type): boolean {
    return this.#lists.has(type);
  }
}
