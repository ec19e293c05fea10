// The reference backend's readings, as the demo reads them: the tabs page talks to the same backend.
export { readingSchema, type TimeSpec } from '../../../demo/shared';
export type { Reading } from '../../../demo/ui/types';

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
