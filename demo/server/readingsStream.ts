import { endLine } from '../../src/db/endLine';
import type { Database } from './database';
import { cursorAfter, selectReadings, toWire, type ReadingsCursor, type ReadingsFilter } from './readings';

/** Counters of the streamed responses, for logs and tests. */
export interface StreamStats {
  /** Streams begun. */
  started: number;
  /** Streams that sent their last record. */
  completed: number;
  /** Streams the client went away from before the end (connection closed). */
  cancelled: number;
  /** Streams that failed on the server side (a database error mid-stream). */
  failed: number;
}

/** Options of {@link streamReadings}. */
export interface StreamReadingsOptions {
  /** `ndjson`: one record per line, then the end line `{"$end":{"count":N}}`; `json`: one JSON array. */
  format: 'ndjson' | 'json';
  /** Rows per database round trip. */
  batchSize: number;
  /** Stop after this many records. Default: all. */
  limit?: number | undefined;
  /** Start after this keyset position. */
  after?: ReadingsCursor | null | undefined;
  stats: StreamStats;
}

/**
 * The readings of `filter` as a byte stream, fetched from the database in
 * keyset batches only as fast as the client reads them: the stream pulls
 * the next batch when the previous one has been taken, so a slow client
 * holds one batch in memory, and a client that goes away stops the queries.
 */
export function streamReadings(db: Database, filter: ReadingsFilter, options: StreamReadingsOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const { format, stats } = options;
  let after = options.after ?? null;
  let remaining = options.limit ?? Infinity;
  let sent = 0;
  let finished = false;
  stats.started++;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const rows = await selectReadings(db, filter, after, Math.min(options.batchSize, remaining));
          if (finished) return;
          let chunk = format === 'json' && sent === 0 ? '[' : '';
          for (const row of rows) {
            const json = JSON.stringify(toWire(row));
            chunk += format === 'json' ? (sent > 0 ? `,\n${json}` : json) : `${json}\n`;
            sent++;
          }
          remaining -= rows.length;
          const last = rows.at(-1);
          if (last) after = cursorAfter(last);
          const done = rows.length < options.batchSize || remaining <= 0;
          if (done) chunk += format === 'json' ? ']\n' : endLine(sent);
          if (chunk) controller.enqueue(encoder.encode(chunk));
          if (done) {
            finished = true;
            stats.completed++;
            controller.close();
          }
        } catch (error) {
          if (finished) return;
          finished = true;
          stats.failed++;
          console.error('Streaming readings failed:', error);
          // Erroring the stream makes the HTTP layer destroy the connection, so the client sees a failure, not a short but well-formed body.
          controller.error(error);
        }
      },
      cancel() {
        if (finished) return;
        finished = true;
        stats.cancelled++;
      },
    },
    { highWaterMark: 0 },
  );
}
