// The `tablecache-web/idb` entry: IndexedDB storage (browser, or Node with an injected indexedDB).
export {};
