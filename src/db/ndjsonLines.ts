/**
 * The lines of an NDJSON body, decoded as UTF-8 as the chunks arrive: the
 * complete lines of each chunk are yielded together (one array per chunk,
 * which saves an async step per line) as soon as the chunk has been read,
 * so memory holds one chunk and one partial line, never the whole body.
 * `\r\n` line ends are accepted, blank lines skipped, and a last line
 * without a newline is yielded at the end.
 *
 * @param read Reads the next chunk (e.g. a `ReadableStreamDefaultReader`'s `read`, wrapped in a timeout).
 */
export async function* ndjsonLines(read: () => Promise<ReadableStreamReadResult<Uint8Array>>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let partial = '';
  for (;;) {
    const { done, value } = await read();
    const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
    let buffer = partial + text;
    let start = 0;
    const lines: string[] = [];
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, end > start && buffer.charCodeAt(end - 1) === 13 ? end - 1 : end);
      start = end + 1;
      if (line.trim() !== '') lines.push(line);
    }
    buffer = buffer.slice(start);
    if (done && buffer.trim() !== '') lines.push(buffer);
    if (lines.length > 0) yield lines;
    if (done) return;
    partial = buffer;
  }
}
