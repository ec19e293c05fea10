/**
 * The records a stale refresh fetches for the one read that waits for it.
 * The refresh replaces what storage holds of the read's spec by exactly
 * what the backend answers for it, so once the fetch has ended the read can
 * be answered from these records, while the refresh still compares, writes
 * and commits them.
 */
export class ReadThrough<R> {
  private readonly records = new Map<string, R>();
  private settle: (records: R[]) => void = () => undefined;
  /**
   * The fetched records storage will hold for the read's spec, each key
   * once (the last answer wins, as in storage), once the fetch has ended.
   * Stays pending when the fetch fails or never starts.
   */
  readonly fetched: Promise<R[]>;

  /** @param keyOf a record's key, or `null` when the read's spec would not return it from storage. */
  constructor(private readonly keyOf: (record: R) => string | null) {
    this.fetched = new Promise((resolve) => (this.settle = resolve));
  }

  /** Keeps a fetched record. */
  item(record: R): void {
    const key = this.keyOf(record);
    if (key !== null) this.records.set(key, record);
  }

  /** The fetch ended (not when it failed). */
  end(): void {
    this.settle([...this.records.values()]);
  }
}

/** The refresh that answered each read answered through it, by the read's `records`. */
const answers = new WeakMap<object, ReadThrough<unknown>>();

/** Says that `records` were answered through `through`: the change of its refresh's commit is already in them. */
export function answeredThrough<R>(records: AsyncIterable<R>, through: ReadThrough<R>): AsyncIterable<R> {
  answers.set(records, through as ReadThrough<unknown>);
  return records;
}

/** The refresh a read's `records` were answered through, if any (see {@link answeredThrough}). */
export function readThroughOf(records: AsyncIterable<unknown>): ReadThrough<unknown> | undefined {
  return answers.get(records);
}
