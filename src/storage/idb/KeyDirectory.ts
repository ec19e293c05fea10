import { keyToString, type PrimaryKey } from '../../core/keys';

/** A primary key as a `Map` key: numbers as they are (the common case costs no string), others as `keyToString`. */
export type KeyId = number | string;

/** The `Map` key of a primary key: equal exactly when IndexedDB would call the keys equal. */
export function keyId(key: PrimaryKey): KeyId {
  return typeof key === 'number' ? key : keyToString(key);
}

/**
 * Which page holds each primary key: of the committed state (`committed`),
 * and of the scratch space (`staged`, an overlay of the keys the scratch
 * space moved or removed). Lets a write find the page of a record it
 * replaces without asking IndexedDB, and `getRecordsByKeys` find a few
 * hundred records among millions.
 *
 * Loaded from the `keys` store when first needed (by the first write or
 * `getRecordsByKeys` after open, not by reads), then kept up to date by the
 * writes, once their transactions have committed.
 */
export class KeyDirectory {
  private readonly base = new Map<KeyId, number>();
  private readonly overlay = new Map<KeyId, number | null>();

  /** The page holding `key` in the committed state. */
  committed(key: KeyId): number | undefined {
    return this.base.get(key);
  }

  /** The page holding `key` in the scratch space (the committed state with the staged changes). */
  staged(key: KeyId): number | undefined {
    const moved = this.overlay.get(key);
    if (moved !== undefined) return moved ?? undefined;
    return this.base.get(key);
  }

  /** Records where `key` is in the committed state (`undefined`: nowhere). */
  setCommitted(key: KeyId, page: number | undefined): void {
    if (page === undefined) this.base.delete(key);
    else this.base.set(key, page);
  }

  /** Records where `key` is in the scratch space (`undefined`: nowhere). */
  setStaged(key: KeyId, page: number | undefined): void {
    this.overlay.set(key, page ?? null);
  }

  /** The scratch space was merged: its keys are the committed ones now. */
  merge(): void {
    for (const [key, page] of this.overlay) this.setCommitted(key, page ?? undefined);
    this.overlay.clear();
  }

  /** The scratch space was dropped. */
  abort(): void {
    this.overlay.clear();
  }

  clear(): void {
    this.base.clear();
    this.overlay.clear();
  }

  /** How many keys the committed state holds. */
  get size(): number {
    return this.base.size;
  }
}
