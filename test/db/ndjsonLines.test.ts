import { describe, expect, it } from 'vitest';
import { ndjsonLines } from '../../src/db/ndjsonLines';
import { collect } from '../support/records';

async function allLines(read: () => Promise<ReadableStreamReadResult<Uint8Array>>): Promise<string[]> {
  return (await collect(ndjsonLines(read))).flat();
}

function chunks(...parts: (string | Uint8Array)[]): () => Promise<ReadableStreamReadResult<Uint8Array>> {
  const encoder = new TextEncoder();
  const queue = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part));
  return async () => {
    const value = queue.shift();
    return value === undefined ? { done: true, value: undefined } : { done: false, value };
  };
}

describe('ndjsonLines', () => {
  it('should yield the complete lines of each chunk together, as soon as the chunk is read', async () => {
    expect(await collect(ndjsonLines(chunks('1\n2\n3', '\n4\n')))).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it("should yield a big chunk's lines in pieces of about 64 KiB, each ending at a line's end", async () => {
    // 1,000 lines of 200 bytes (~200 KB) in one chunk, then one line longer than a piece, whole.
    const lines = Array.from({ length: 1000 }, (_, i) => String(i).padStart(199, 'x'));
    const long = 'y'.repeat(100_000);
    const pieces = await collect(ndjsonLines(chunks(`${lines.join('\n')}\n${long}\nlast`)));
    expect(pieces.flat()).toEqual([...lines, long, 'last']);
    expect(pieces.length).toBeGreaterThan(3);
    for (const piece of pieces.slice(0, 3)) expect(piece.length * 200).toBeLessThanOrEqual(64 * 1024);
    expect(pieces).toContainEqual([long]);
  });

  it('should yield each line once its newline has arrived, across chunk boundaries', async () => {
    expect(await allLines(chunks('{"a":1}\n{"b"', ':2}\n{"c":3}\n'))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('should yield a last line that has no newline', async () => {
    expect(await allLines(chunks('1\n', '2'))).toEqual(['1', '2']);
  });

  it('should skip blank lines and strip carriage returns', async () => {
    expect(await allLines(chunks('1\r\n\r\n  \n2\r', '\n'))).toEqual(['1', '2']);
  });

  it('should decode a multi-byte character split between two chunks', async () => {
    const bytes = new TextEncoder().encode('"né"\n');
    expect(await allLines(chunks(bytes.subarray(0, 3), bytes.subarray(3)))).toEqual(['"né"']);
  });

  it('should not read the next chunk before the lines of the current one are taken', async () => {
    let reads = 0;
    const read = chunks('1\n2\n', '3\n');
    const batches = ndjsonLines(() => {
      reads++;
      return read();
    });
    await batches.next();
    expect(reads).toBe(1);
    await batches.return(undefined);
  });

  it('should parse a 2 MB line spread over 20 000 chunks without rescanning it (linear time)', async () => {
    const line = `"${'x'.repeat(2_000_000)}"`;
    const bytes = new TextEncoder().encode(`${line}\n`);
    let at = 0;
    const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> =>
      at < bytes.length ? { done: false, value: bytes.subarray(at, (at += 100)) } : { done: true, value: undefined };
    expect(await allLines(read)).toEqual([line]);
  });

  it('should throw the given error once a line passes maxLineBytes, counting UTF-8 bytes', async () => {
    const tooLong = (bytes: number) => new Error(`too long: ${bytes}`);
    await expect(allLines(chunks('"ééé"\n'))).resolves.toEqual(['"ééé"']);
    const limited = (read: () => Promise<ReadableStreamReadResult<Uint8Array>>) =>
      collect(ndjsonLines(read, { maxLineBytes: 7, lineTooLong: tooLong }));
    await expect(limited(chunks('"éé"\n'))).resolves.toEqual([['"éé"']]);
    await expect(limited(chunks('"ééé"\n'))).rejects.toThrow('too long: 8');
    await expect(limited(chunks('"é', 'éé', '"'))).rejects.toThrow('too long');
    await expect(limited(chunks('1\n12345678'))).rejects.toThrow('too long: 8');
  });
});
