import type { PageInfo } from './pages';
import { PagePlan, type PageStore } from './PageStore';

/** Pages changed per rollback transaction. */
const PAGES_PER_TRANSACTION = 64;

/**
 * Puts the stored pages back to the committed state `committed`: deletes
 * the pages of later generations (staged and carried ones) and takes the
 * end off pages that a later generation superseded. Idempotent and in
 * small transactions, so a crash in the middle is finished by the next
 * open. Resolves with whether there was anything to do.
 */
export async function rollBack(store: PageStore<unknown>, committed: number, operation: string): Promise<boolean> {
  const staged: number[] = [];
  const ended: PageInfo[] = [];
  for (const page of store.dir.all()) {
    if (page.g > committed) staged.push(page.id);
    else if (page.e !== undefined && page.e > committed) ended.push(page);
  }
  for (let i = 0; i < staged.length; i += PAGES_PER_TRANSACTION) {
    await store.deletePages(staged.slice(i, i + PAGES_PER_TRANSACTION), operation);
  }
  for (let i = 0; i < ended.length; i += PAGES_PER_TRANSACTION) {
    const plan = new PagePlan<unknown>(false);
    for (const page of ended.slice(i, i + PAGES_PER_TRANSACTION)) plan.puts.set(page.id, { meta: { ...page, e: undefined } });
    await store.write(plan, operation);
  }
  return staged.length > 0 || ended.length > 0;
}
