import { constants, createGzip } from 'node:zlib';

/**
 * A gzip transform that flushes after every chunk (`Z_SYNC_FLUSH`), so each
 * batch of records reaches the client as soon as it is written. The
 * standard `CompressionStream` (and so `hono/compress`) holds output back
 * until about 16 kB of compressed data have piled up, which for a slow
 * query means the client sees nothing for a long time; a sync flush costs a
 * few bytes per chunk.
 */
export function flushingGzip(): TransformStream<Uint8Array, Uint8Array> {
  const gzip = createGzip();
  let failure: Error | null = null;
  // Without a listener a zlib error would be thrown as an uncaught exception and end the process.
  gzip.on('error', (error) => (failure = error));

  /** Moves zlib's output into the stream; false when the stream is gone (the client cancelled). */
  const drain = (controller: TransformStreamDefaultController<Uint8Array>): boolean => {
    for (let chunk = gzip.read() as Buffer | null; chunk !== null; chunk = gzip.read() as Buffer | null) {
      try {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        gzip.destroy();
        return false;
      }
    }
    return true;
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      return new Promise<void>((resolve, reject) => {
        gzip.write(chunk);
        // zlib calls back later, from its thread pool: by then the client may have gone and the stream be cancelled.
        gzip.flush(constants.Z_SYNC_FLUSH, () => {
          if (failure) reject(failure);
          else if (drain(controller)) resolve();
          else reject(new Error('The response stream was cancelled.'));
        });
      });
    },
    flush(controller) {
      return new Promise<void>((resolve, reject) => {
        gzip.once('error', reject);
        gzip.once('end', () => {
          drain(controller);
          resolve();
        });
        // Paused mode: 'readable' fires as the trailer arrives.
        gzip.on('readable', () => drain(controller));
        gzip.end();
      });
    },
  });
}
