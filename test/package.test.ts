import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packageJson = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, { types: string; import: string } | string>;
};

describe('package', () => {
  it('should build every entry of the exports map, usable from plain Node without browser globals', () => {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
    for (const [entry, target] of Object.entries(packageJson.exports)) {
      if (typeof target === 'string') continue;
      expect(existsSync(`${root}/${target.import}`), `${entry} → ${target.import}`).toBe(true);
      expect(existsSync(`${root}/${target.types}`), `${entry} → ${target.types}`).toBe(true);
    }
    const script = `
      import { MemoryStorageTable, CachedTable, RangeIndexes, Interval } from 'tablecache-web';
      import { IdbStorageTable } from 'tablecache-web/idb';
      import { connectCachedTable } from 'tablecache-web/worker';
      const indexes = new RangeIndexes({ indexName: 't', primaryKey: (r) => r.id, score: (r) => r.t, dbRecordsSpecForRange: () => null });
      const storage = new MemoryStorageTable(indexes);
      await storage.putRecords([{ id: 1, t: 5 }]);
      const found = [];
      for await (const r of storage.getRecords(indexes.storageRecordsSpec({ indexName: 't', ge: 0, lt: 10 }))) found.push(r.id);
      console.log(JSON.stringify({ found, idb: typeof IdbStorageTable.open, connect: typeof connectCachedTable, table: typeof CachedTable, interval: String(new Interval(0, 1)) }));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ found: [1], idb: 'function', connect: 'function', table: 'function', interval: '[0, 1)' });
  }, 120_000);
});
