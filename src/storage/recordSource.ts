import type { RecordSource } from '../core/types';

/** Whether records are streamed (to be read with `for await`) rather than at hand. */
export function isAsyncIterable<T>(source: RecordSource<T>): source is AsyncIterable<T> {
  return Symbol.asyncIterator in source;
}
