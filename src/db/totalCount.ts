/**
 * The REST protocol's optional size header: a server that can tell up front
 * how many records a response (with every page it links to) holds sends
 * `X-Total-Count: N`; `RestDbAccess` passes N on as `DbAccessOptions.onTotal`,
 * which a load's or adjust's progress reports as `total`. Browsers read it
 * only when the server exposes it (`Access-Control-Expose-Headers`).
 */
export const TOTAL_COUNT_HEADER = 'X-Total-Count';

/** The count of a `X-Total-Count` value: a whole number of records; `null` when absent or anything else. */
export function parseTotalCount(value: string | null): number | null {
  if (value === null || !/^\s*\d{1,15}\s*$/.test(value)) return null;
  return Number(value);
}
