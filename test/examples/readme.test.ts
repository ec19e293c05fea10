import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { collect } from '../support/records';
import { DayIndexes, type DayReading } from './DayIndexes';

const DAY = 86_400_000;

describe('README', () => {
  it('should show the example Indexes exactly as tested here', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const example = readFileSync(new URL('./DayIndexes.ts', import.meta.url), 'utf8')
      .replace("from '../../src/index'", "from 'tablecache-web'")
      .replace(/\nexport \{[^}]*\};\n$/, '');
    expect(block?.trim()).toBe(example.trim());
  });

  describe('DayIndexes example', () => {
    it('should cache whole days and fetch only the days that change', async () => {
      const records: DayReading[] = Array.from({ length: 40 }, (_, i) => ({ id: i, ts: i * (DAY / 4), value: i }));
      const requests: string[] = [];
      const db = {
        async *getRecords(url: string) {
          requests.push(url);
          const days = new Set(new URL(url, 'http://x').searchParams.get('days')!.split(',').map(Number));
          yield* records.filter((record) => days.has(Math.floor(record.ts / DAY)));
        },
      };
      const indexes = new DayIndexes();
      const table = new CachedTable(indexes, db, new MemoryStorageTable(indexes));
      await table.load({ indexName: 'day', days: [1, 2] });
      await table.adjust({ indexName: 'day', days: [2, 3] });
      expect(requests).toEqual(['/api/readings?days=1,2', '/api/readings?days=3']);
      const day3 = await collect(table.getRecords({ indexName: 'day', days: [3] }));
      expect(day3.map((record) => record.id).sort((a, b) => a - b)).toEqual([12, 13, 14, 15]);
      expect(table.stats().reads.cacheHit).toBe(1);
      expect(table.stats().expired).toBe(4);
    });
  });
});
