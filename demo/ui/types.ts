/** A sensor reading as the demo's cache holds it (`ts` in epoch ms). */
export interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly ts: number;
  readonly value: number;
  readonly note: string | null;
}

/** A range of time in view or cached, `[ge, lt)` in epoch ms. */
export interface TimeRange {
  readonly ge: number;
  readonly lt: number;
}
