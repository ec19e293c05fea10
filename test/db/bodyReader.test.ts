import { describe, expect, it } from 'vitest';
import { BODY_READ_BYTES, bodyReader } from '../../src/db/bodyReader';

/** `size` bytes counting up (mod 251), so that pieces out of order or lost would show. */
const bytes = (size: number) => Uint8Array.from({ length: size }, (_, i) => i % 251);

async function readAll(read: () => Promise<ReadableStreamReadResult<Uint8Array>>): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  for (let result = await read(); !result.done; result = await read()) pieces.push(result.value);
  return pieces;
}

/** Whether `pieces`, one after the other, are `whole`. */
function sameBytes(pieces: Uint8Array[], whole: Uint8Array): boolean {
  let at = 0;
  for (const piece of pieces) {
    for (const byte of piece) if (byte !== whole[at++]) return false;
  }
  return at === whole.byteLength;
}

describe('bodyReader', () => {
  it('should read a byte stream in pieces of at most 64 KiB, however big its chunks', async () => {
    const body = bytes(200 * 1024 + 5);
    const stream = new ReadableStream({
      type: 'bytes',
      start(controller) {
        controller.enqueue(body.slice());
        controller.close();
      },
    });
    const pieces = await readAll(bodyReader(stream).read);
    expect(BODY_READ_BYTES).toBe(64 * 1024);
    expect(pieces.map((piece) => piece.byteLength)).toEqual([65_536, 65_536, 65_536, 8197]);
    expect(sameBytes(pieces, body)).toBe(true);
  });

  it('should keep each piece intact while later ones are read (a fresh buffer per read)', async () => {
    const stream = new ReadableStream({
      type: 'bytes',
      start(controller) {
        controller.enqueue(bytes(100_000));
        controller.close();
      },
    });
    const reader = bodyReader(stream);
    const first = (await reader.read()).value as Uint8Array;
    const copy = first.slice();
    await readAll(reader.read);
    expect(sameBytes([first], copy)).toBe(true);
  });

  it('should read a stream that is not a byte stream chunk by chunk, as they come', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(100_000));
        controller.enqueue(bytes(10));
        controller.close();
      },
    });
    const pieces = await readAll(bodyReader(stream).read);
    expect(pieces.map((piece) => piece.byteLength)).toEqual([100_000, 10]);
  });

  it.each([true, false])('should cancel the body (a byte stream: %s)', async (byteStream) => {
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
    };
    const stream: ReadableStream<Uint8Array> = byteStream
      ? new ReadableStream({ type: 'bytes', pull: (controller) => controller.enqueue(bytes(10)), cancel })
      : new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(bytes(10)), cancel });
    const reader = bodyReader(stream);
    await reader.read();
    await reader.cancel();
    expect(cancelled).toBe(true);
  });
});
