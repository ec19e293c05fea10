import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { flushingGzip } from '../../demo/server/flushingGzip';

const encoder = new TextEncoder();

describe('flushingGzip', () => {
  it('should emit a decodable block for every chunk before the next one is written', async () => {
    const gzip = flushingGzip();
    const writer = gzip.writable.getWriter();
    const reader = gzip.readable.getReader();
    const blocks: Uint8Array[] = [];
    const first = writer.write(encoder.encode('{"id":1}\n'.repeat(50)));
    blocks.push((await reader.read()).value!);
    await first;
    // The blocks so far decode to the first chunk alone: nothing of it waits in zlib for more input.
    const partial = gunzipSync(Buffer.concat(blocks), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString();
    expect(partial).toBe('{"id":1}\n'.repeat(50));
    const closed = writer.close();
    for (let result = await reader.read(); !result.done; result = await reader.read()) blocks.push(result.value);
    await closed;
    expect(gunzipSync(Buffer.concat(blocks)).toString()).toBe('{"id":1}\n'.repeat(50));
  });

  it('should survive the reader cancelling while zlib is still compressing a chunk', async () => {
    const gzip = flushingGzip();
    const writer = gzip.writable.getWriter();
    const reader = gzip.readable.getReader();
    // A pending read lets the chunk through to zlib; the cancel then lands while zlib works on it.
    const read = reader.read();
    const written = writer.write(encoder.encode('x'.repeat(100_000)));
    // Microtasks only: the chunk reaches zlib, whose callback needs a turn of the event loop.
    for (let tick = 0; tick < 10; tick++) await Promise.resolve();
    await reader.cancel(new Error('client went away'));
    expect((await read).done).toBe(true);
    await expect(written).rejects.toThrow();
    // Give zlib's callback time to run: an exception there would fail this test as an uncaught error.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
