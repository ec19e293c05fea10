/**
 * Opens a connection of its own to the existing IndexedDB database `dbName`
 * (never creating it) only to learn when another connection upgrades or
 * deletes the database (`versionchange`) or the browser closes it (storage
 * cleared): then it closes its connection, so as not to block the upgrade,
 * and calls `onLost` once with the reason.
 *
 * Resolves with a function that stops watching; resolves with a no-op when
 * the database does not exist or cannot be opened (there is nothing to watch).
 */
export async function watchDatabaseVersion(
  factory: IDBFactory,
  dbName: string,
  onLost: (reason: 'versionchange' | 'close') => void,
): Promise<() => void> {
  const db = await new Promise<IDBDatabase | null>((resolve) => {
    const request = factory.open(dbName);
    // The database does not exist: opening it would create it; abort that instead.
    request.onupgradeneeded = () => request.transaction?.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = (event) => {
      // Handled here: an aborted creation is the expected way of saying "no such database".
      event.preventDefault();
      resolve(null);
    };
    request.onblocked = () => undefined;
  });
  if (!db) return () => undefined;
  let watching = true;
  const lost = (reason: 'versionchange' | 'close') => {
    if (!watching) return;
    watching = false;
    db.close();
    onLost(reason);
  };
  db.onversionchange = () => lost('versionchange');
  db.onclose = () => lost('close');
  return () => {
    if (!watching) return;
    watching = false;
    db.close();
  };
}
