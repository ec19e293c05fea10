import { requestResult } from './idbRequests';

/** The object store of rows (see `IdbRow`). */
export const ROWS = 'rows';
/** The object store of the committed generation, the committed state and the schema. */
export const META = 'meta';
/** Index of rows by start generation (only staged rows have one). */
export const START_INDEX = 'g';
/** Index of rows by end generation (only discarded and shadowed rows have one). */
export const END_INDEX = 'e';
/** `meta` key of `{ generation, committedAt }`. */
export const GENERATION_KEY = 'generation';
/** `meta` key of `{ value }`, the state stored by the last merge. */
export const STATE_KEY = 'state';
/** `meta` key of `{ format, indexNames }`. */
export const SCHEMA_KEY = 'schema';
/** Bumped whenever the row layout changes; a database of another format is rebuilt. */
const FORMAT = 1;

/** The name of the IndexedDB index over the scores of `indexName`. */
export function scoreIndexName(indexName: string): string {
  return `score:${indexName}`;
}

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

function createSchema(db: IDBDatabase, indexNames: readonly string[]): void {
  for (const name of Array.from(db.objectStoreNames)) db.deleteObjectStore(name);
  const rows = db.createObjectStore(ROWS, { keyPath: 'k' });
  indexNames.forEach((indexName, i) => rows.createIndex(scoreIndexName(indexName), `s${i}`));
  rows.createIndex(START_INDEX, 'g');
  rows.createIndex(END_INDEX, 'e');
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
  if (storeNames.length !== 2 || storeNames[0] !== META || storeNames[1] !== ROWS) return false;
  const transaction = db.transaction([ROWS, META], 'readonly');
  const rows = transaction.objectStore(ROWS);
  const expected = new Map<string, string>([
    [START_INDEX, 'g'],
    [END_INDEX, 'e'],
  ]);
  indexNames.forEach((indexName, i) => expected.set(scoreIndexName(indexName), `s${i}`));
  if (rows.keyPath !== 'k' || rows.indexNames.length !== expected.size) return false;
  for (const [name, keyPath] of expected) {
    if (!rows.indexNames.contains(name) || rows.index(name).keyPath !== keyPath) return false;
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
 * stores and indexes for `indexNames`. A database with another schema (other
 * index names, another row format) is rebuilt empty under a higher version;
 * other open connections get a `versionchange` and must close first.
 *
 * Rejects with the `DOMException` of the failing request.
 */
export async function openIdbDatabase(
  factory: IDBFactory,
  dbName: string,
  indexNames: readonly string[],
): Promise<IDBDatabase> {
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
