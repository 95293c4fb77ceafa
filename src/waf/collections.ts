// Keyed collections of a transaction (ARGS_GET, REQUEST_HEADERS, TX, ...): ordered entries whose
// keys are looked up case-insensitively, as ModSecurity does. Values are binary strings.

export class KeyedValues {
  readonly keys: string[] = [];
  /** Lower-cased keys, parallel to `keys`. */
  readonly lowerKeys: string[] = [];
  readonly values: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  add(key: string, value: string): void {
    this.keys.push(key);
    this.lowerKeys.push(key.toLowerCase());
    this.values.push(value);
  }

  /** The first value under `lowerKey`. */
  first(lowerKey: string): string | undefined {
    const i = this.lowerKeys.indexOf(lowerKey);
    return i === -1 ? undefined : this.values[i];
  }

  has(lowerKey: string): boolean {
    return this.lowerKeys.includes(lowerKey);
  }

  /** Replaces every value under the key by one (TX variables: one value per name). */
  set(key: string, value: string): void {
    const lower = key.toLowerCase();
    const i = this.lowerKeys.indexOf(lower);
    if (i === -1) {
      this.add(key, value);
      return;
    }
    this.values[i] = value;
    // Later duplicates (from add) go: a set variable has one value.
    for (let j = this.lowerKeys.length - 1; j > i; j--) if (this.lowerKeys[j] === lower) this.#removeAt(j);
  }

  delete(lowerKey: string): void {
    for (let j = this.lowerKeys.length - 1; j >= 0; j--) if (this.lowerKeys[j] === lowerKey) this.#removeAt(j);
  }

  clear(): void {
    this.keys.length = 0;
    this.lowerKeys.length = 0;
    this.values.length = 0;
  }

  #removeAt(j: number): void {
    this.keys.splice(j, 1);
    this.lowerKeys.splice(j, 1);
    this.values.splice(j, 1);
  }
}
