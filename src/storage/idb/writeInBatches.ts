import { BACKGROUND_SLICE_MS, yieldWhenBusy } from '../../core/yieldWhenBusy';
import type { RecordSource } from '../../core/types';
import { eachRecord } from '../recordSource';

/** How {@link writeInBatches} turns records into written batches. */
export interface BatchWriting<R, Row> {
  /** The row of a record; throws for a bad record (which stops the write). */
  readonly toRow: (record: R) => Row;
  /** Records in the next batch. */
  readonly batchSize: () => number;
  /** Writes one batch (one transaction). */
  readonly write: (rows: Row[]) => Promise<void>;
  /**
   * Called between records: a promise to wait for before the next record
   * (to let reads go first), or `undefined` to go on. Default: a later task
   * once a slice of the thread's time is used (`yieldWhenBusy`).
   */
  readonly pause?: (() => Promise<void> | undefined) | undefined;
}

/**
 * Collects records into batches and writes each, collecting the next batch
 * while the previous one is written; at most one write is in flight. Takes
 * records in slices of the thread's time (`yieldWhenBusy`): a read that
 * comes in meanwhile waits for one slice, not for the batch. A batch's
 * write starts in a slice too (`pause` once the previous write has ended),
 * not in the callback that said it ended: it clones the batch's rows.
 * Rejects with the first failure once the write in flight has settled; the
 * source is not read further.
 */
export async function writeInBatches<R, Row>(records: RecordSource<R>, writing: BatchWriting<R, Row>): Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  let batch: Row[] = [];
  let size = writing.batchSize();
  const pause = writing.pause ?? (() => yieldWhenBusy(BACKGROUND_SLICE_MS));
  const flush = async () => {
    const rows = batch;
    batch = [];
    await inFlight;
    // The last write ended when IndexedDB said, at no time of ours: this one starts (and clones its rows) in a slice.
    await pause();
    inFlight = writing.write(rows);
    inFlight.catch(() => undefined);
    size = writing.batchSize();
  };
  try {
    await eachRecord(records, (record) => {
      batch.push(writing.toRow(record));
      return batch.length >= size ? flush() : pause();
    });
    if (batch.length > 0) await flush();
  } catch (error) {
    // Nothing is reported before the transaction in flight has settled.
    await inFlight.catch(() => undefined);
    throw error;
  }
  await inFlight;
}
