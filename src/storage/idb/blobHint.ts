/** How deep {@link holdsBlob} looks into a record (records are plain data, rarely nested deeper). */
const DEPTH = 4;

/** Whether `value` holds a `Blob` (a `File` is one) within a few levels of objects and arrays. */
export function holdsBlob(value: unknown, depth = DEPTH): boolean {
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true;
  if (depth === 0 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  const children = value instanceof Map ? [...value.values()] : value instanceof Set ? [...value] : Object.values(value);
  return children.some((child) => holdsBlob(child, depth - 1));
}

/**
 * What to add to the message of a write that IndexedDB aborted while one of
 * its records held a Blob: WebKit cannot store Blobs in an ephemeral session
 * (Safari's private browsing, WebDriver automation) and aborts the
 * transaction with an `UnknownError` that names no record.
 */
export function blobHint(records: Iterable<unknown>): string {
  for (const record of records) {
    if (holdsBlob(record)) {
      return ' (a record of this batch holds a Blob or File, which this engine did not store: WebKit cannot in a private or automation session; store the bytes as an ArrayBuffer instead)';
    }
  }
  return '';
}
