// The `tablecache-web/idb` entry: IndexedDB storage (browser, or Node with an injected indexedDB).
export { IdbStorageTable } from './storage/IdbStorageTable';
export type { IdbStorageTableOptions } from './storage/IdbStorageTable';
