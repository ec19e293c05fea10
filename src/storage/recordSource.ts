import type { RecordSource } from '../core/types';

/** Whether records are streamed (to be read with `for await`) rather than at hand. */
export function isAsyncIterable<T>(source: RecordSource<T>): source is AsyncIterable<T> {
  return Symbol.asyncIterator in source;
}

/**
 * Calls `each` with every record, in order; waits for it only when it
 * returns a promise (records at hand pass without a pause each). A throw or
 * rejection stops the iteration, closing the source.
 */
export async function eachRecord<R>(records: RecordSource<R>, each: (record: R) => void | Promise<void>): Promise<void> {
  if (isAsyncIterable(records)) {
    for await (const record of records) {
      const pending = each(record);
      if (pending) await pending;
    }
  } else {
    for (const record of records) {
      const pending = each(record);
      if (pending) await pending;
    }
  }
}
