/**
 * A primary key: any valid IndexedDB key (a number that is not NaN, a string,
 * a valid Date, binary data, or an array of keys).
 */
export type PrimaryKey = number | string | Date | ArrayBuffer | ArrayBufferView | readonly PrimaryKey[];

function keyType(key: unknown): number {
  if (typeof key === 'number') return Number.isNaN(key) ? -1 : 0;
  if (key instanceof Date) return Number.isNaN(key.getTime()) ? -1 : 1;
  if (typeof key === 'string') return 2;
  if (key instanceof ArrayBuffer || ArrayBuffer.isView(key)) return 3;
  if (Array.isArray(key)) return 4;
  return -1;
}

function bytesOf(key: ArrayBuffer | ArrayBufferView): Uint8Array {
  return key instanceof ArrayBuffer ? new Uint8Array(key) : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
}

/** Whether `key` is a valid IndexedDB key (arrays must not contain themselves). */
export function isValidKey(key: unknown, seen?: Set<unknown>): key is PrimaryKey {
  const type = keyType(key);
  if (type < 0) return false;
  if (type !== 4) return true;
  // Only arrays can contain themselves: the set of arrays on the way down is made for them alone.
  seen ??= new Set();
  if (seen.has(key)) return false;
  seen.add(key);
  const valid = (key as unknown[]).every((item) => isValidKey(item, seen));
  seen.delete(key);
  return valid;
}

/** Compares two valid keys in IndexedDB order (numbers < dates < strings < binary < arrays), like `indexedDB.cmp`. */
export function compareKeys(a: PrimaryKey, b: PrimaryKey): number {
  const typeA = keyType(a);
  const typeB = keyType(b);
  if (typeA !== typeB) return typeA - typeB;
  switch (typeA) {
    case 0:
    case 1: {
      const x = typeA === 0 ? (a as number) : (a as Date).getTime();
      const y = typeA === 0 ? (b as number) : (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 2:
      return a < b ? -1 : a > b ? 1 : 0;
    case 3: {
      const x = bytesOf(a as ArrayBuffer);
      const y = bytesOf(b as ArrayBuffer);
      const length = Math.min(x.length, y.length);
      for (let i = 0; i < length; i++) {
        const difference = (x[i] as number) - (y[i] as number);
        if (difference !== 0) return difference;
      }
      return x.length - y.length;
    }
    default: {
      const x = a as readonly PrimaryKey[];
      const y = b as readonly PrimaryKey[];
      const length = Math.min(x.length, y.length);
      for (let i = 0; i < length; i++) {
        const difference = compareKeys(x[i] as PrimaryKey, y[i] as PrimaryKey);
        if (difference !== 0) return difference;
      }
      return x.length - y.length;
    }
  }
}

/** A string that is equal for two keys exactly when `compareKeys` says they are equal. */
export function keyToString(key: PrimaryKey): string {
  switch (keyType(key)) {
    case 0:
      return Object.is(key, -0) ? 'n0' : `n${key as number}`;
    case 1:
      return `d${(key as Date).getTime()}`;
    case 2:
      return `s${key as string}`;
    case 3:
      return `b${Array.from(bytesOf(key as ArrayBuffer), (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
    default:
      return `a${JSON.stringify((key as readonly PrimaryKey[]).map(keyToString))}`;
  }
}

/** Describes a key for an error message. */
export function describeKey(key: unknown): string {
  if (key instanceof Date) return `Date(${Number.isNaN(key.getTime()) ? 'Invalid' : key.toISOString()})`;
  if (typeof key === 'string') return JSON.stringify(key);
  if (Array.isArray(key)) return `[${key.map(describeKey).join(', ')}]`;
  return String(key);
}
