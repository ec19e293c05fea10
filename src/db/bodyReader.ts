/**
 * The most bytes a read takes from a response body: the size of the pieces
 * `ndjsonLines` decodes and splits at a time.
 *
 * Taken as it comes, a chunk holds whatever piled up in the browser while
 * the reader waited (up to ~700 kB, measured in headless Chromium reading a
 * 16.8 MB response every 40 ms), and the browser moves it in one task on the
 * reading thread: 9–15 ms, during which a read from the page waits. Read in
 * pieces of 64 KiB (`getReader({ mode: 'byob' })`), the same response was
 * read as fast, and no task took more than 5 ms.
 */
export const BODY_READ_BYTES = 64 * 1024;

/** Reads a response body a piece at a time. */
export interface BodyReader {
  /** The next piece: at most {@link BODY_READ_BYTES} when the body is a byte stream. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Releases the body: the connection closes unless the body was read to its end. */
  cancel(): Promise<void>;
}

/**
 * Reads `body` in pieces of at most {@link BODY_READ_BYTES} where it is a
 * byte stream (a `fetch` response's body in the browsers of today and in
 * Node), and chunk by chunk as it comes otherwise.
 */
export function bodyReader(body: ReadableStream<Uint8Array>): BodyReader {
  let pieces: ReadableStreamBYOBReader;
  try {
    pieces = body.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream (made by hand, or by an older browser): its chunks as they come.
    const reader = body.getReader();
    return { read: () => reader.read(), cancel: () => reader.cancel() };
  }
  // A fresh buffer each time: the last piece's partial line is still held (and the buffer read into is taken over).
  return { read: () => pieces.read(new Uint8Array(BODY_READ_BYTES)), cancel: () => pieces.cancel() };
}
