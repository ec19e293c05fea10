import { keyToString, type PrimaryKey } from '../../core/keys';

/** A primary key as a `Map` key: numbers as they are (the common case costs no string), others as `keyToString`. */
export type KeyId = number | string;

/** The `Map` key of a primary key: equal exactly when IndexedDB would call the keys equal. */
export function keyId(key: PrimaryKey): KeyId {
  return typeof key === 'number' ? key : keyToString(key);
}

/** How many entries of a merged layer one background step folds into the base. */
const FOLD_STEP = 20_000;

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
 * steps of {@link FOLD_STEP} entries, one task each.
 *
 * Loaded from the `keys` store when first needed (by the first write or
 * `getRecordsByKeys` after open, not by reads), then kept up to date by the
 * writes, once their transactions have committed.
 */
export class KeyDirectory {
  private readonly base = new Map<KeyId, number>();
  /** Merged overlays not folded into `base` yet, oldest first; `null`: removed. */
  private readonly layers: Map<KeyId, number | null>[] = [];
  private overlay = new Map<KeyId, number | null>();
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
    this.overlay = new Map();
    this.scheduleFold();
  }

  /** The scratch space was dropped. */
  abort(): void {
    this.overlay = new Map();
  }

  clear(): void {
    this.base.clear();
    this.layers.length = 0;
    this.overlay = new Map();
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
    setTimeout(() => {
      this.foldScheduled = false;
      this.foldStep(FOLD_STEP);
      if (this.layers.length > 0) this.scheduleFold();
    }, 0);
  }

  /** Moves up to `limit` entries of the oldest layer into the base. Lookups agree at every step: a moved entry says the same in both. */
  private foldStep(limit: number): void {
    const oldest = this.layers[0];
    if (!oldest) return;
    let moved = 0;
    for (const [key, page] of oldest) {
      if (moved++ >= limit) break;
      if (page === null) this.base.delete(key);
      else this.base.set(key, page);
      oldest.delete(key);
    }
    if (oldest.size === 0) this.layers.shift();
  }
}
