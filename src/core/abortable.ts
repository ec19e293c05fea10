/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts (the promise itself goes on, observed). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

/**
 * `records`, rejecting with `signal.reason` as soon as the signal aborts,
 * even while the source waits (a `DbAccess` that ignores its signal, or a
 * backend that trickles whitespace); the source is then closed.
 */
export function abortableRecords<R>(records: AsyncIterable<R>, signal: AbortSignal | undefined): AsyncIterable<R> {
  // Without a signal, the records themselves: a generator around them would cost a few promises per record.
  return signal ? abortableSteps(records, signal) : records;
}

async function* abortableSteps<R>(records: AsyncIterable<R>, signal: AbortSignal): AsyncGenerator<R> {
  const iterator = records[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const step = await abortable(iterator.next(), signal);
      if (step.done) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!finished) {
      // Not awaited: a source stuck in its own await only settles its return() once that await does.
      void iterator.return?.()?.catch?.(() => {});
    }
  }
}

/** Throws `error`, or `signal.reason` when the signal has aborted (storage may have wrapped the abort in its own error). */
export function abortReasonOr(error: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted ? signal.reason : error;
}
