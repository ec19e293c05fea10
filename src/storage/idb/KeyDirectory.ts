import { keyToString, type PrimaryKey } from '../../core/keys';
import { BACKGROUND_SLICE_MS, nextTask, yieldWhenBusy } from '../../core/yieldWhenBusy';
import { ShardedMap } from './ShardedMap';

/** A primary key as a `Map` key: numbers as they are (the common case costs no string), others as `keyToString`. */
export type KeyId = number | string;

/** The `Map` key of a primary key: equal exactly when IndexedDB would call the keys equal. */
export function keyId(key: PrimaryKey): KeyId {
  return typeof key === 'number' ? key : keyToString(key);
}

/** How many entries of a merged layer one background step folds into the base (steps go on while the slice lasts). */
const FOLD_STEP = 1_000;

/**
 * Which page holds each primary key: of the committed state (`committed`),
 * and of the scratch space (`staged`, an overlay of the keys the scratch
 * space moved or removed). Lets a write find the page of a record it
 * replaces without asking IndexedDB, and `getRecordsByKeys` find a few
 * hundred records among millions.
 *
 * A merge must cost the same for 1 staged key as for 100,000, so it does not
 * fold the overlay into the committed map: it pushes the overlay as a layer
 * over it (newest wins), and the layers are folded into the map later, in
 * steps of {@link FOLD_STEP} entries, as many a task as fit in a slice of
 * the thread's time (`yieldWhenBusy`).
 *
 * Loaded from the `keys` store when first needed (by the first write or
 * `getRecordsByKeys` after open, not by reads), then kept up to date by the
 * writes, once their transactions have committed.
 */
export class KeyDirectory {
  // Sharded: one Map of 200,000 keys rehashes for tens of ms at a time as it grows or shrinks.
  private readonly base = new ShardedMap<KeyId, number>();
  /** Merged overlays not folded into `base` yet, oldest first; `null`: removed. */
  private readonly layers: ShardedMap<KeyId, number | null>[] = [];
  private overlay = new ShardedMap<KeyId, number | null>();
  private foldScheduled = false;

  /** The page holding `key` in the committed state. */
  committed(key: KeyId): number | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const page = this.layers[i]!.get(key);
      if (page !== undefined) return page ?? undefined;
    }
    return this.base.get(key);
  }

  /** The page holding `key` in the scratch space (the committed state with the staged changes). */
  staged(key: KeyId): number | undefined {
    const moved = this.overlay.get(key);
    if (moved !== undefined) return moved ?? undefined;
    return this.committed(key);
  }

  /** Records where `key` is in the committed state (`undefined`: nowhere). */
  setCommitted(key: KeyId, page: number | undefined): void {
    const top = this.layers[this.layers.length - 1];
    if (top) top.set(key, page ?? null);
    else if (page === undefined) this.base.delete(key);
    else this.base.set(key, page);
  }

  /** Records where `key` is in the scratch space (`undefined`: nowhere). */
  setStaged(key: KeyId, page: number | undefined): void {
    this.overlay.set(key, page ?? null);
  }

  /** The scratch space was merged: its keys are the committed ones now. Constant time; the folding follows in the background. */
  merge(): void {
    if (this.overlay.size === 0) return;
    this.layers.push(this.overlay);
    this.overlay = new ShardedMap();
    this.scheduleFold();
  }

  /** The scratch space was dropped. */
  abort(): void {
    this.overlay = new ShardedMap();
  }

  clear(): void {
    this.base.clear();
    this.layers.length = 0;
    this.overlay = new ShardedMap();
  }

  /** How many merged layers still wait to be folded (for tests). */
  get pendingLayers(): number {
    return this.layers.length;
  }

  /** Folds every merged layer now (for tests; the background does it step by step). */
  foldAll(): void {
    while (this.layers.length > 0) this.foldStep(Infinity);
  }

  private scheduleFold(): void {
    if (this.foldScheduled) return;
    this.foldScheduled = true;
    void nextTask().then(() => this.fold());
  }

  /** Folds steps until no layer is left, or the slice is used (then goes on in a later task). */
  private fold(): void {
    for (;;) {
      this.foldStep(FOLD_STEP);
      if (this.layers.length === 0) {
        this.foldScheduled = false;
        return;
      }
      const later = yieldWhenBusy(BACKGROUND_SLICE_MS);
      if (later) {
        void later.then(() => this.fold());
        return;
      }
    }
  }

  /** Moves up to `limit` entries of the oldest layer into the base. Lookups agree at every step: a moved entry says the same in both. */
  private foldStep(limit: number): void {
    const oldest = this.layers[0];
    if (!oldest) return;
    oldest.take(limit, (key, page) => {
      if (page === null) this.base.delete(key);
      else this.base.set(key, page);
    });
    if (oldest.size === 0) this.layers.shift();
  }
}
