/** A feed line as the tests see it: a change, or a control line. */
export type FeedLine =
  | { cursor: string; key: number; op: 'upsert' | 'delete' }
  | { $live: { cursor: string } }
  | { $reset: { cursor: string } }
  | { $heartbeat: { cursor: string } };

/** The lines of an open `GET /api/changes` response, read one at a time; `close()` cancels it. */
export class FeedLines {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly lines: FeedLine[] = [];

  constructor(readonly response: Response) {
    if (!response.body) throw new Error(`no body (status ${response.status})`);
    this.reader = response.body.getReader();
  }

  /** Opens the feed of `baseUrl` after `after` (from now when undefined). */
  static async open(baseUrl: string, after?: string, headers: Record<string, string> = {}): Promise<FeedLines> {
    const response = await fetch(`${baseUrl}/api/changes${after === undefined ? '' : `?after=${after}`}`, { headers });
    if (response.status !== 200) throw new Error(`GET /api/changes answered ${response.status}: ${await response.text()}`);
    return new FeedLines(response);
  }

  /** The next line. */
  async next(): Promise<FeedLine> {
    while (this.lines.length === 0) {
      const { done, value } = await this.reader.read();
      if (done) throw new Error('the feed ended');
      this.buffer += this.decoder.decode(value, { stream: true });
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') this.lines.push(JSON.parse(part) as FeedLine);
    }
    return this.lines.shift() as FeedLine;
  }

  /** The next line that is not a heartbeat. */
  async nextNotHeartbeat(): Promise<FeedLine> {
    for (;;) {
      const line = await this.next();
      if (!('$heartbeat' in line)) return line;
    }
  }

  /** The next `count` change lines, skipping heartbeats and `$live`. */
  async changes(count: number): Promise<{ cursor: string; key: number; op: string }[]> {
    const changes: { cursor: string; key: number; op: string }[] = [];
    while (changes.length < count) {
      const line = await this.next();
      if ('cursor' in line) changes.push(line);
    }
    return changes;
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
