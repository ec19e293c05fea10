/**
 * The lines of an NDJSON body, decoded as UTF-8 as the chunks arrive: each
 * line is yielded as soon as its newline has been read, so memory holds one
 * chunk and one partial line, never the whole body. `\r\n` line ends are
 * accepted, blank lines skipped, and a last line without a newline is
 * yielded at the end.
 *
 * @param read Reads the next chunk (e.g. a `ReadableStreamDefaultReader`'s `read`, wrapped in a timeout).
 */
export async function* ndjsonLines(read: () => Promise<ReadableStreamReadResult<Uint8Array>>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let partial = '';
  for (;;) {
    const { done, value } = await read();
    const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
    let buffer = partial + text;
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, buffer.charCodeAt(end - 1) === 13 && end > start ? end - 1 : end);
      start = end + 1;
      if (line.trim() !== '') yield line;
    }
    buffer = buffer.slice(start);
    if (done) {
      if (buffer.trim() !== '') yield buffer;
      return;
    }
    partial = buffer;
  }
}
