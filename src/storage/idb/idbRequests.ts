/** Resolves with the request's result, or rejects with its error (a `DOMException`). */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new DOMException('The request failed.', 'UnknownError'));
  });
}

/**
 * Resolves when the transaction commits, rejects with its error when it
 * aborts. Request errors that a handler prevented (`preventDefault()`) do not
 * abort a transaction, so only `abort` counts as failure.
 */
export function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.addEventListener('complete', () => resolve());
    transaction.addEventListener('abort', () =>
      reject(transaction.error ?? new DOMException('The transaction was aborted.', 'AbortError')),
    );
  });
}

/** Aborts a transaction that may have finished already (then there is nothing to undo). */
export function abortQuietly(transaction: IDBTransaction): void {
  try {
    transaction.abort();
  } catch {
    // InvalidStateError: it committed or aborted already, which is what abort wanted.
  }
}
