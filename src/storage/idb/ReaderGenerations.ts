/** One reader's hold on a generation; released once. */
export interface ReaderLease {
  readonly generation: number;
  released: boolean;
}

/**
 * The generations that reads in progress started at. Rows they can still
 * see must not be cleaned up, so cleanup stops below the oldest of them.
 */
export class ReaderGenerations {
  private readonly counts = new Map<number, number>();

  /** Registers a reader of `generation`. */
  acquire(generation: number): ReaderLease {
    this.counts.set(generation, (this.counts.get(generation) ?? 0) + 1);
    return { generation, released: false };
  }

  /** Ends a reader's hold; a second release of the same lease does nothing. Returns whether anything changed. */
  release(lease: ReaderLease): boolean {
    if (lease.released) return false;
    lease.released = true;
    const count = (this.counts.get(lease.generation) ?? 1) - 1;
    if (count > 0) this.counts.set(lease.generation, count);
    else this.counts.delete(lease.generation);
    return true;
  }

  /** The oldest generation still being read, or `Infinity` when nothing is. */
  get oldest(): number {
    let oldest = Infinity;
    for (const generation of this.counts.keys()) oldest = Math.min(oldest, generation);
    return oldest;
  }
}
