/*
 * Remembers the answers of a pure function of a string, at most `limit` of them (the oldest go
 * first). For work repeated on every request with the same inputs: parsing the client's address,
 * checking the session cookie's signature, the link cookie's proof. A caller that sees hostile
 * inputs gets churn at worst, never unbounded memory; inputs longer than `maxKeyLength` are
 * computed every time and not kept.
 */

export interface BoundedMemoOptions<T> {
  readonly limit: number;
  readonly maxKeyLength?: number;
  /** Which answers are worth keeping (all by default); the others are computed afresh each time. */
  readonly keep?: (value: T) => boolean;
}

export function boundedMemo<T>(compute: (key: string) => T, options: BoundedMemoOptions<T>): (key: string) => T {
  const { limit, maxKeyLength = 1024, keep = () => true } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit: expected a whole number ≥ 1, received ${limit}`);
  const kept = new Map<string, T>();
  return (key) => {
    if (kept.has(key)) return kept.get(key) as T;
    const value = compute(key);
    if (key.length > maxKeyLength || !keep(value)) return value;
    if (kept.size >= limit) kept.delete(kept.keys().next().value as string);
    kept.set(key, value);
    return value;
  };
}
