import { requestResult } from './idbRequests';

/** The object store of pages: `{ r: records, s: scores per index }` by page id (see `pages.ts`). */
export const PAGES = 'pages';
/** The object store of page descriptions (`StoredPageMeta`) by page id: what the directory is loaded from. */
export const DIR = 'dir';
/** The object store of each page's primary keys, by page id: what the key directory is loaded from. */
export const KEYS = 'keys';
/** The object store of the committed generation, the committed state and the schema. */
export const META = 'meta';
/** Every store a page lives in. */
export const PAGE_STORES = [PAGES, DIR, KEYS];
/** `meta` key of `{ generation, committedAt }`. */
export const GENERATION_KEY = 'generation';
/** `meta` key of `{ value }`, the state stored by the last merge. */
export const STATE_KEY = 'state';
/** `meta` key of `{ format, indexNames }`. */
export const SCHEMA_KEY = 'schema';
/**
 * Bumped whenever the layout changes; a database of another format is
 * rebuilt empty. 1: one row per record; 2: pages of records.
 */
export const FORMAT = 2;

/** What the `generation` entry of `meta` holds. */
export interface CommittedGeneration {
  generation: number;
  /** `Date.now()` of the merge. */
  committedAt: number;
}

interface StoredSchema {
  format: number;
  indexNames: string[];
}

const STORES = [DIR, KEYS, META, PAGES];

function createSchema(db: IDBDatabase, indexNames: readonly string[]): void {
  for (const name of Array.from(db.objectStoreNames)) db.deleteObjectStore(name);
  // Out-of-line keys (page ids) and no IndexedDB index: the table finds pages through its directory in memory.
  db.createObjectStore(PAGES);
  db.createObjectStore(DIR);
  db.createObjectStore(KEYS);
  const meta = db.createObjectStore(META);
  const schema: StoredSchema = { format: FORMAT, indexNames: [...indexNames] };
  meta.put(schema, SCHEMA_KEY);
}

function openVersion(
  factory: IDBFactory,
  dbName: string,
  version: number | undefined,
  indexNames: readonly string[],
): Promise<IDBDatabase> {
  const request = version === undefined ? factory.open(dbName) : factory.open(dbName, version);
  request.onupgradeneeded = (event) => {
    // A database that did not exist is created here; one with another schema is rebuilt from scratch.
    if (version !== undefined || event.oldVersion === 0) createSchema(request.result, indexNames);
  };
  return requestResult(request);
}

async function schemaMatches(db: IDBDatabase, indexNames: readonly string[]): Promise<boolean> {
  const storeNames = Array.from(db.objectStoreNames).sort();
  if (storeNames.length !== STORES.length || storeNames.some((name, i) => name !== STORES[i])) return false;
  const transaction = db.transaction(STORES, 'readonly');
  if (STORES.some((name) => transaction.objectStore(name).indexNames.length > 0 || transaction.objectStore(name).keyPath !== null)) {
    return false;
  }
  const schema = (await requestResult(transaction.objectStore(META).get(SCHEMA_KEY))) as StoredSchema | undefined;
  return (
    schema?.format === FORMAT &&
    schema.indexNames.length === indexNames.length &&
    schema.indexNames.every((name, i) => name === indexNames[i])
  );
}

/**
 * Opens (creating it when missing) the database of one table with the
 * stores of format {@link FORMAT}. A database with another schema (other
 * index names, another format, such as the one-row-per-record layout of
 * format 1) is rebuilt empty under a higher version; other open connections
 * get a `versionchange` and must close first.
 *
 * Rejects with the `DOMException` of the failing request.
 */
export async function openIdbDatabase(factory: IDBFactory, dbName: string, indexNames: readonly string[]): Promise<IDBDatabase> {
  let db = await openVersion(factory, dbName, undefined, indexNames);
  for (let attempt = 0; ; attempt++) {
    // Until the caller installs its own handler, never block another connection's upgrade.
    const current = db;
    current.onversionchange = () => current.close();
    if (await schemaMatches(db, indexNames)) return db;
    const version = db.version + 1;
    db.close();
    try {
      db = await openVersion(factory, dbName, version, indexNames);
    } catch (error) {
      // Another connection bumped the version first: look at what it built.
      if (!(error instanceof DOMException && error.name === 'VersionError') || attempt >= 3) throw error;
      db = await openVersion(factory, dbName, undefined, indexNames);
    }
  }
}
