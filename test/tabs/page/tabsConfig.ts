import { z } from 'zod';

/** A reading as the reference backend sends it (`ts` as ISO 8601, kept as epoch ms). */
export interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly ts: number;
  readonly value: number;
  readonly note: string | null;
}

export const readingSchema: z.ZodType<Reading> = z.object({
  id: z.number().int(),
  sensor: z.string(),
  ts: z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
  value: z.number(),
  note: z.string().nullable(),
});

/** A time range of readings, `[ge, lt)` in epoch ms. */
export interface TimeSpec {
  readonly indexName: 'ts';
  readonly ge: number;
  readonly lt: number;
}

/** What the page tells its worker, as the worker's `name`. */
export interface TabsWorkerConfig {
  readonly api: string;
  /** The tab, for a dedicated worker; absent for the shared worker. */
  readonly tab?: string;
}

/** Where the workers say that they opened the table (so the test can count the tables opened). */
export const eventsChannel = 'tablecache-web-test:tabs-events';

/** The IndexedDB database of the test table. */
export const testDbName = 'tabs-test-readings';
