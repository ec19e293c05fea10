import type { PrimaryKey } from '../../core/keys';
import type { RecordScorer } from '../../core/types';
import { keyId, type KeyId } from './KeyDirectory';
import type { PageStore } from './PageStore';

/**
 * The committed records with these keys: the pages the key directory names
 * for them, each fetched once, filtered by key. Copies unless `shared`.
 */
export async function recordsByKeys<R>(
  store: PageStore<R>,
  scorer: RecordScorer<R, unknown>,
  keys: readonly PrimaryKey[],
  shared: boolean,
): Promise<R[]> {
  const wanted = new Set<KeyId>(keys.map(keyId));
  const pageIds = new Set<number>();
  for (const key of wanted) {
    const page = store.keys.committed(key);
    if (page !== undefined) pageIds.add(page);
  }
  const fetched = await store.fetch([...pageIds], 'getRecordsByKeys', shared);
  const found: R[] = [];
  let fromMemory = false;
  for (const { page, cached } of fetched.values()) {
    for (const record of page.r) {
      if (!wanted.has(keyId(scorer.primaryKey(record) as PrimaryKey))) continue;
      found.push(record);
      fromMemory ||= cached;
    }
  }
  return fromMemory && !shared ? structuredClone(found) : found;
}
