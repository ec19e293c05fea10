/**
 * The records a stale refresh fetches for the one read that waits for it.
 * The refresh replaces what storage holds of the read's spec by exactly
 * what the backend answers for it, so once the fetch has ended the read can
 * be answered from these records, while the refresh still compares, writes
 * and commits them.
 */
export class ReadThrough<R> {
  private records = new Map<string, R>();
  /** A fetched record had a key that cannot be stored: the read waits for the refresh's outcome (its error). */
  private unusable = false;
  private settle: (records: R[]) => void = () => undefined;
  /**
   * The fetched records storage will hold for the read's spec, each key
   * once (the last answer wins, as in storage), once the fetch has ended.
   * Stays pending when the fetch fails or never starts, or when a record's
   * key cannot be stored.
   */
  readonly fetched: Promise<R[]>;
  /** Names this refresh in the change of its commit (see `answeredThrough`); holds nothing. */
  readonly token: object = {};

  /**
   * @param keyOf a record's key (throws for a key storage refuses).
   * @param matches whether a storage read of the spec would return the record.
   */
  constructor(
    private readonly keyOf: (record: R) => string,
    private readonly matches: (record: R) => boolean,
  ) {
    this.fetched = new Promise((resolve) => (this.settle = resolve));
  }

  /** Keeps a fetched record: a later one of the same key replaces it, or drops it when it left the spec. */
  item(record: R): void {
    let key: string;
    try {
      key = this.keyOf(record);
    } catch {
      this.unusable = true;
      return;
    }
    if (this.matches(record)) this.records.set(key, record);
    else this.records.delete(key);
  }

  /** The fetch ended (not when it failed). */
  end(): void {
    const records = [...this.records.values()];
    this.records = new Map();
    if (!this.unusable) this.settle(records);
  }
}

/** The refresh that answered each read answered through it (its token), by the read's `records`. */
const answers = new WeakMap<object, object>();

/** Says that `records` were answered through `through`: the change of its refresh's commit is already in them. */
export function answeredThrough<R>(records: AsyncIterable<R>, through: ReadThrough<R>): AsyncIterable<R> {
  answers.set(records, through.token);
  return records;
}

/** The token of the refresh a read's `records` were answered through, if any (see {@link answeredThrough}). */
export function readThroughOf(records: AsyncIterable<unknown>): object | undefined {
  return answers.get(records);
}
