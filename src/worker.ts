// The `tablecache-web/worker` entry: the worker boundary over Comlink.
export {};
