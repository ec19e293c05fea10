import type { CachedTable } from '../core/CachedTable';
import type { AdjustProgress, ResumeOptions } from '../core/CachedTableOptions';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { BROADCAST_PROTOCOL_VERSION, type InboxMessage, type NodeId, type ReplyMessage, type RequestMessage } from './broadcastProtocol';
import { serializeError } from '../worker/errorTransfer';
import type { CallOptions, ProgressCallback, TableSessionApi } from '../worker/protocol';
import { TableSession, type UpdateSink } from '../worker/TableSession';

const protocol = BROADCAST_PROTOCOL_VERSION;

/** Makes the table; called once, by the node that owns it. */
export type TableFactory<R, PK, S extends IndexSpec, D> = () => CachedTable<R, PK, S, D> | PromiseLike<CachedTable<R, PK, S, D>>;

/** What a {@link TableHost} needs from its node. */
export interface TableHostOptions<R, PK, S extends IndexSpec, D> {
  /** The node hosting the table. */
  readonly self: NodeId;
  readonly openTable: TableFactory<R, PK, S, D>;
  /** Resume the table as soon as it is open: a previous owner had loaded it, so the tabs' apps will not load it again. */
  readonly resume: boolean;
  /** Posts an inbox message to a node (this one included). */
  readonly send: (to: NodeId, message: InboxMessage) => void;
  /** Calls `onGone` once the context of `node` has gone away. */
  readonly watchNode: (node: NodeId, onGone: () => void) => void;
  /** Called once the table has completed its first load or resume. */
  readonly onLoaded: () => void;
  /** Called once the table can no longer be served (its storage was lost: its database upgraded or deleted elsewhere). */
  readonly onUnusable: (error: TableCacheError) => void;
}

interface HostedSession<R> {
  readonly session: { close(): Promise<void> };
  readonly api: TableSessionApi<R>;
}

/**
 * The table of the node that owns it, serving every connection of every
 * node: one {@link TableSession} per connection, named by node and
 * connection, answering {@link RequestMessage}s and posting the sessions'
 * subscription updates back to the node that owns each connection.
 *
 * Across tabs, `resume()` resolves when the table is loaded already (another
 * tab loaded or resumed it), so that every tab's app can start with
 * `resume()` and fall back to `load()`; `load()` rejects as it does in one
 * tab when the table is loaded.
 */
export class TableHost<R, PK, S extends IndexSpec, D> {
  private readonly sessions = new Map<string, HostedSession<R>>();
  private readonly watchedNodes = new Set<NodeId>();
  private readonly table: Promise<CachedTable<R, PK, S, D>>;
  /** The load or resume in progress, when one is. */
  private loading: Promise<void> | null = null;
  private closedError: Error | null = null;
  private stopWatchingStorage: (() => void) | null = null;

  constructor(private readonly options: TableHostOptions<R, PK, S, D>) {
    this.table = (async () => options.openTable())();
    this.table.then(
      (table) => this.opened(table),
      () => {
        // Every request rejects with the error (see invoke).
      },
    );
  }

  /** The number of connections served (of every node). */
  get connections(): number {
    return this.sessions.size;
  }

  /** Answers one request (always: with its result or its error). */
  async handle(request: RequestMessage): Promise<void> {
    const reply = (body: { value: unknown } | { error: ReturnType<typeof serializeError> }) =>
      this.options.send(request.from, {
        protocol,
        kind: 'reply',
        from: this.options.self,
        requestId: request.requestId,
        ...body,
      } as ReplyMessage);
    let value: unknown;
    try {
      value = await this.invoke(request);
    } catch (error) {
      reply({ error: serializeError(error) });
      return;
    }
    try {
      reply({ value });
    } catch (error) {
      // Typically a record that cannot be cloned: the caller learns that instead of the result.
      reply({ error: serializeError(error) });
    }
  }

  /** Closes the sessions of a node whose context has gone away. */
  closeNode(node: NodeId): void {
    this.watchedNodes.delete(node);
    for (const [key, { session }] of this.sessions) {
      if (key.startsWith(`${node}/`))
        session.close().catch(() => {
          // Nobody is left to tell that closing one of its reads failed.
        });
    }
  }

  /**
   * Stops serving: every later request rejects with `error`, every session
   * is closed (their clients are told by their own nodes). Resolves once closed.
   */
  async close(error: Error): Promise<void> {
    this.closedError ??= error;
    this.stopWatchingStorage?.();
    // A table no longer served stops following its feed: one feed per origin, the next owner's.
    void this.table.then((table) => table.close()).catch(() => {});
    await Promise.allSettled([...this.sessions.values()].map(({ session }) => session.close()));
  }

  private opened(table: CachedTable<R, PK, S, D>): void {
    if (this.closedError) return;
    table.loaded().then(() => {
      if (!this.closedError) this.options.onLoaded();
    });
    if (this.options.resume && !table.isLoaded) {
      this.track(table.resume()).catch(() => {
        // Nothing committed to resume (the previous owner died loading): the table stays unloaded until an app loads it.
      });
    }
    this.stopWatchingStorage = table.onStorageLost((reason) => {
      this.options.onUnusable(
        new TableCacheError(
          reason === 'versionchange'
            ? `Table '${table.name}' was closed: another connection is upgrading or deleting its IndexedDB database (a newer version of the app in another tab?). Reload this page.`
            : `Table '${table.name}' was closed: the browser closed its IndexedDB database (site data cleared?). Reload this page.`,
        ),
      );
    });
  }

  private async invoke(request: RequestMessage): Promise<unknown> {
    if (this.closedError) throw this.closedError;
    const table = await this.table;
    if (this.closedError) throw this.closedError;
    const key = `${request.from}/${request.connection}`;
    if (request.method === 'close') {
      await this.sessions.get(key)?.session.close();
      return undefined;
    }
    const { api } = this.session(key, request.from, request.connection, table);
    const [first, second, third, fourth] = request.args;
    const onProgress: ProgressCallback | undefined = request.progress
      ? (progress: AdjustProgress) =>
          this.options.send(request.from, { protocol, kind: 'progress', from: this.options.self, requestId: request.requestId, progress })
      : undefined;
    switch (request.method) {
      case 'load':
        return this.load(api.load(first, onProgress, second as CallOptions | undefined));
      case 'resume':
        return this.resume(table, api, first as ResumeOptions | undefined);
      case 'loaded':
        return api.loaded();
      case 'adjust':
        return api.adjust(first, onProgress, second as CallOptions | undefined);
      case 'openRead':
        return api.openRead(first, second as number, third as Parameters<TableSessionApi<R>['openRead']>[2]);
      case 'nextBatch':
        return api.nextBatch(first as number);
      case 'closeRead':
        return api.closeRead(first as number);
      case 'getFirstRecord':
        return api.getFirstRecord(first);
      case 'invalidateRecords':
        return api.invalidateRecords(first, second, third as Parameters<TableSessionApi<R>['invalidateRecords']>[2]);
      case 'invalidateKeys':
        return api.invalidateKeys(first, second as Parameters<TableSessionApi<R>['invalidateKeys']>[1], third as CallOptions | undefined);
      case 'refreshInvalid':
        return api.refreshInvalid(first as CallOptions | undefined);
      case 'cancel':
        return api.cancel(first as number);
      case 'stats':
        return api.stats();
      case 'changeFeedStatus':
        return api.changeFeedStatus();
      case 'subscribe':
        return api.subscribe(first as number, second, third as number, fourth as Parameters<TableSessionApi<R>['subscribe']>[3]);
      case 'unsubscribe':
        return api.unsubscribe(first as number);
    }
  }

  private session(key: string, node: NodeId, connection: number, table: CachedTable<R, PK, S, D>): HostedSession<R> {
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const sink: UpdateSink = {
      postMessage: (message) => this.options.send(node, { protocol, kind: 'update', from: this.options.self, connection, message }),
      close: () => undefined,
    };
    const session = new TableSession(table, sink, () => {
      if (this.sessions.get(key)?.session === session) this.sessions.delete(key);
    });
    const hosted: HostedSession<R> = { session, api: session.api() };
    this.sessions.set(key, hosted);
    if (node !== this.options.self && !this.watchedNodes.has(node)) {
      this.watchedNodes.add(node);
      this.options.watchNode(node, () => this.closeNode(node));
    }
    return hosted;
  }

  /** A load: the one in progress, for `resume()` calls to wait on, unless another is already (this one will then reject). */
  private load(started: Promise<void>): Promise<void> {
    return this.loading ? started : this.track(started);
  }

  /** Resolves when the table is loaded already, or once it is after the load in progress; resumes it otherwise. */
  private async resume(table: CachedTable<R, PK, S, D>, api: TableSessionApi<R>, options: ResumeOptions | undefined): Promise<void> {
    for (;;) {
      if (table.isLoaded) return;
      if (!this.loading) return this.track(api.resume(options));
      await this.loading.catch(() => {
        // A failed load leaves the table unloaded: this resume tries itself.
      });
    }
  }

  private track(started: Promise<void>): Promise<void> {
    const tracked: Promise<void> = started.finally(() => {
      if (this.loading === tracked) this.loading = null;
    });
    this.loading = tracked;
    // Observed by the caller; the tracking copy only orders resume() calls.
    tracked.catch(() => {});
    return tracked;
  }
}
