// Keyed collections of a transaction (ARGS_GET, REQUEST_HEADERS, TX, ...): ordered entries whose
// keys are looked up case-insensitively, as ModSecurity does. Values are binary strings. Lookups
// by key (CRS reads TX:x hundreds of times per request) go through an index of first positions,
// built on the first lookup and kept up to date from then on (collections never looked up by key,
// such as MATCHED_VARS, never pay for it).

export class KeyedValues {
  readonly keys: string[] = [];
  /** Lower-cased keys, parallel to `keys`. */
  readonly lowerKeys: string[] = [];
  readonly values: string[] = [];
  /** Lower key → position of its first entry; undefined until the first lookup. */
  #first: Map<string, number> | undefined;
  /** Some key has more than one entry (then lookups past the first scan). */
  #repeated = false;

  get size(): number {
    return this.keys.length;
  }

  /** Adds an entry; `lower` when the caller has the key in lower case. */
  add(key: string, value: string, lower = key.toLowerCase()): void {
    const first = this.#first;
    if (first !== undefined) {
      if (first.has(lower)) this.#repeated = true;
      else first.set(lower, this.keys.length);
    }
    this.keys.push(key);
    this.lowerKeys.push(lower);
    this.values.push(value);
  }

  /** Position of the first entry under `lowerKey`, or -1. */
  indexOf(lowerKey: string): number {
    return this.#index().get(lowerKey) ?? -1;
  }

  /** Whether entries after the first may share a key (callers then scan from indexOf). */
  get repeated(): boolean {
    this.#index();
    return this.#repeated;
  }

  /** The first value under `lowerKey`. */
  first(lowerKey: string): string | undefined {
    const i = this.#index().get(lowerKey);
    return i === undefined ? undefined : this.values[i];
  }

  has(lowerKey: string): boolean {
    return this.#index().has(lowerKey);
  }

  /** Replaces every value under the key by one (TX variables: one value per name); `lower` when the caller has it. */
  set(key: string, value: string, lower = key.toLowerCase()): void {
    const i = this.#index().get(lower);
    if (i === undefined) {
      this.add(key, value, lower);
      return;
    }
    this.values[i] = value;
    if (this.#repeated) {
      // Later duplicates (from add) go: a set variable has one value.
      let removed = false;
      for (let j = this.lowerKeys.length - 1; j > i; j--) {
        if (this.lowerKeys[j] === lower) {
          this.#removeAt(j);
          removed = true;
        }
      }
      if (removed) this.#first = undefined;
    }
  }

  delete(lowerKey: string): void {
    if (!this.has(lowerKey)) return;
    for (let j = this.lowerKeys.length - 1; j >= 0; j--) if (this.lowerKeys[j] === lowerKey) this.#removeAt(j);
    this.#first = undefined;
  }

  clear(): void {
    this.keys.length = 0;
    this.lowerKeys.length = 0;
    this.values.length = 0;
    this.#first = undefined;
  }

  #removeAt(j: number): void {
    this.keys.splice(j, 1);
    this.lowerKeys.splice(j, 1);
    this.values.splice(j, 1);
  }

  #index(): Map<string, number> {
    if (this.#first !== undefined) return this.#first;
    const first = new Map<string, number>();
    this.#repeated = false;
    for (let j = 0; j < this.lowerKeys.length; j++) {
      if (first.has(this.lowerKeys[j])) this.#repeated = true;
      else first.set(this.lowerKeys[j], j);
    }
    this.#first = first;
    return first;
  }
}
