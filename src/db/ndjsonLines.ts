/** Options of {@link ndjsonLines}. */
export interface NdjsonLinesOptions {
  /** The longest line accepted, in bytes of UTF-8 (its `\n` not counted). Default: no limit. */
  maxLineBytes?: number | undefined;
  /** The error to throw when a line is longer than `maxLineBytes`; given the bytes seen of that line so far. */
  lineTooLong?: ((bytes: number) => Error) | undefined;
}

const NEWLINE = 10;

/** The most bytes of complete lines decoded and yielded together (a longer line goes whole). */
const PIECE_BYTES = 64 * 1024;

/** The bytes of `pieces` (`bytes` in all) followed by `last`, in one array: each byte is copied once. */
function joined(pieces: readonly Uint8Array[], bytes: number, last: Uint8Array | null): Uint8Array {
  if (pieces.length === 0) return last ?? new Uint8Array(0);
  if (pieces.length === 1 && last === null) return pieces[0] as Uint8Array;
  const all = new Uint8Array(bytes + (last?.byteLength ?? 0));
  let offset = 0;
  for (const piece of pieces) {
    all.set(piece, offset);
    offset += piece.byteLength;
  }
  if (last) all.set(last, offset);
  return all;
}

/**
 * The lines of an NDJSON body, decoded as UTF-8 as the chunks arrive: the
 * complete lines of each chunk are yielded together (one array per chunk,
 * which saves an async step per line; per piece of about 64 KiB of a bigger
 * chunk, so that no step decodes and splits megabytes at once) as soon as
 * the chunk has been read, so memory holds one chunk and one partial line,
 * never the whole body.
 * `\r\n` line ends are accepted, blank lines skipped, and a last line
 * without a newline is yielded at the end.
 *
 * Linear in the body's size: every byte is searched and decoded once, however
 * many chunks a long line spans. A line longer than `maxLineBytes` throws as
 * soon as that many bytes of it have arrived (so a server cannot make it hold
 * an endless line).
 *
 * @param read Reads the next chunk (e.g. a `ReadableStreamDefaultReader`'s `read`, wrapped in a timeout).
 */
export async function* ndjsonLines(
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>,
  options: NdjsonLinesOptions = {},
): AsyncGenerator<string[]> {
  const maxLineBytes = options.maxLineBytes ?? Infinity;
  const tooLong = (bytes: number) => options.lineTooLong?.(bytes) ?? new RangeError(`An NDJSON line is longer than ${maxLineBytes} bytes.`);
  const decoder = new TextDecoder();
  // The start of the current line, as chunks not yet decoded: a newline byte never occurs inside a UTF-8 sequence.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for (;;) {
    const { done, value } = await read();
    if (done) {
      const text = decoder.decode(joined(pending, pendingBytes, null));
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (line.trim() !== '') yield [line];
      return;
    }
    const lastNewline = value.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      pendingBytes += value.byteLength;
      if (pendingBytes > maxLineBytes) throw tooLong(pendingBytes);
      pending.push(value);
      continue;
    }
    if (maxLineBytes !== Infinity) {
      let start = 0;
      let lineBytes = pendingBytes;
      for (let end = value.indexOf(NEWLINE); end !== -1 && end <= lastNewline; end = value.indexOf(NEWLINE, start)) {
        lineBytes += end - start;
        if (lineBytes > maxLineBytes) throw tooLong(lineBytes);
        lineBytes = 0;
        start = end + 1;
      }
    }
    const rest = value.subarray(lastNewline + 1);
    if (rest.byteLength > maxLineBytes) throw tooLong(rest.byteLength);
    const head = pending;
    const headBytes = pendingBytes;
    pending = rest.byteLength > 0 ? [rest] : [];
    pendingBytes = rest.byteLength;
    for (let from = 0; from <= lastNewline;) {
      // Up to the last newline within PIECE_BYTES of `from`, or to the end of a longer line.
      let to = lastNewline + 1;
      if (to - from > PIECE_BYTES) {
        const cut = value.lastIndexOf(NEWLINE, from + PIECE_BYTES - 1);
        to = (cut >= from ? cut : value.indexOf(NEWLINE, from + PIECE_BYTES)) + 1;
      }
      const bytes = value.subarray(from, to);
      const lines = splitLines(decoder.decode(from === 0 ? joined(head, headBytes, bytes) : bytes));
      from = to;
      if (lines.length > 0) yield lines;
    }
  }
}

/** The non-blank lines of `text`, which ends with a newline; `\r\n` ends are accepted. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}
