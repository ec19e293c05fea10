import { TableCacheError } from '../core/errors';

/**
 * A call to a table shared by several tabs was cut off because the tab
 * that owned the table went away (it closed, crashed, or its worker was
 * terminated) while the call was in flight. Calls that are safe to repeat
 * (reads, `stats`, `loaded`, `resume`) are repeated on the next owner
 * instead; this error is for the others, and for a read that had already
 * delivered part of its records.
 */
export class TableOwnerLostError extends TableCacheError {
  override name = 'TableOwnerLostError';
  /** The client method that was cut off, e.g. `'adjust'`. */
  readonly method: string;
  /**
   * Whether the call may have taken effect before the owner went away:
   * true for `load`, `adjust`, `refreshInvalid` and `invalidateRecords`
   * (the message says how to find out); false for an interrupted read.
   */
  readonly mayHaveApplied: boolean;

  constructor(message: string, details: { method: string; mayHaveApplied: boolean }) {
    super(message);
    this.method = details.method;
    this.mayHaveApplied = details.mayHaveApplied;
  }
}
