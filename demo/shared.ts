import { z } from 'zod';
import type { Reading } from './ui/types';

/** One reading as the reference backend sends it; `ts` arrives as ISO 8601 and is kept as epoch ms. */
export const readingSchema: z.ZodType<Reading> = z.object({
  id: z.number().int(),
  sensor: z.string(),
  ts: z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
  value: z.number(),
  note: z.string().nullable(),
});

/** The demo's spec: a time range of readings, `[ge, lt)` in epoch ms. */
export interface TimeSpec {
  readonly indexName: 'ts';
  readonly ge: number;
  readonly lt: number;
}

/** What the demo's worker needs to know, passed as the worker's `name`. */
export interface WorkerConfig {
  /** The reference backend's base URL, e.g. `http://127.0.0.1:8787`. */
  readonly api: string;
}

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
