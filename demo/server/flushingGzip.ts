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
  const drain = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (let chunk = gzip.read() as Buffer | null; chunk !== null; chunk = gzip.read() as Buffer | null) {
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      return new Promise<void>((resolve, reject) => {
        gzip.write(chunk, (error) => {
          if (error) reject(error);
        });
        gzip.flush(constants.Z_SYNC_FLUSH, () => {
          drain(controller);
          resolve();
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
        // Reading in paused mode until 'end': 'readable' fires as the trailer arrives.
        gzip.on('readable', () => drain(controller));
        gzip.end();
      });
    },
  });
}
