import type { IndexSpec } from '../../src/core/types';
import type { RecordsSource } from '../../src/ui/RecordsStore';
import type { SubscriptionListener, SubscriptionUpdate } from '../../src/worker/CachedTableClient';

/** One `subscribe` call on a {@link FakeRecordsSource}. */
export interface FakeSubscription<R, S> {
  readonly spec: S;
  readonly listener: SubscriptionListener<R>;
  active: boolean;
}

/** A client whose subscriptions the test drives: it records them and delivers what the test says. */
export class FakeRecordsSource<R, S extends IndexSpec = IndexSpec> implements RecordsSource<R, S> {
  readonly subscriptions: FakeSubscription<R, S>[] = [];
  /** When set, `subscribe` throws it (as a closed client does). */
  failWith: Error | null = null;

  subscribe(spec: S, listener: SubscriptionListener<R>): () => void {
    if (this.failWith) throw this.failWith;
    const subscription: FakeSubscription<R, S> = { spec, listener, active: true };
    this.subscriptions.push(subscription);
    return () => {
      subscription.active = false;
    };
  }

  /** The subscriptions not ended. */
  get active(): FakeSubscription<R, S>[] {
    return this.subscriptions.filter((subscription) => subscription.active);
  }

  /** Delivers `update` to every active subscription (as the worker would, to ended ones too: the store must ignore those). */
  deliver(update: SubscriptionUpdate<R>, to: readonly FakeSubscription<R, S>[] = this.active): void {
    for (const subscription of to) subscription.listener(update);
  }
}

/** A result as a subscription delivers it. */
export function result<R>(records: R[], info: { from?: 'storage' | 'db' | 'mixed'; stale?: boolean } = {}): SubscriptionUpdate<R> {
  return { records, from: info.from ?? 'storage', refreshed: false, stale: info.stale ?? false, incomplete: false };
}
