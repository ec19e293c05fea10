import type { Remote } from 'comlink';
import type { IndexSpec } from '../core/types';
import { CachedTableClient } from '../worker/CachedTableClient';
import type { StartConnectionWatch } from '../worker/connectionWatch';
import type { TableSessionApi } from '../worker/protocol';

/**
 * How a tab reaches a table shared by every tab: through one `SharedWorker`
 * for all of them, or through its own dedicated worker, which forwards to
 * the owner elected with Web Locks.
 */
export type SharedTableMode = 'shared-worker' | 'web-locks';

/**
 * A {@link CachedTableClient} of a table shared by every tab of the app;
 * made by `connectSharedCachedTable`. Same methods, same errors, plus
 * `TableOwnerLostError` for a write cut off when the tab owning the table
 * went away (Web Locks mode).
 */
export class SharedCachedTableClient<R, S extends IndexSpec = IndexSpec> extends CachedTableClient<R, S> {
  /**
   * Use `connectSharedCachedTable`, which makes the worker and opens the connection this wraps.
   * @param mode how this tab reaches the table.
   * @param worker the worker this tab talks to (this tab's own in `'web-locks'` mode).
   * @param watchConnection fails the client when the worker cannot serve it.
   */
  constructor(
    session: Remote<TableSessionApi<R>>,
    updatesPort: MessagePort,
    batchSize: number,
    readonly mode: SharedTableMode,
    readonly worker: Worker | SharedWorker,
    watchConnection?: StartConnectionWatch,
  ) {
    super(session, updatesPort, batchSize, watchConnection);
  }
}
