import { readdirSync, readFileSync } from 'node:fs';
import { compile } from 'svelte/compiler';
import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { collect } from '../support/records';
import { DayIndexes, type DayReading } from './DayIndexes';
import type { RestRecordsSpec } from '../../src/index';

const DAY = 86_400_000;

/** The README and every file of `docs/`, as one text: each example must appear in exactly one of them. */
function documentation(): string {
  const docs = new URL('../../docs/', import.meta.url);
  const files = readdirSync(docs)
    .filter((file) => file.endsWith('.md'))
    .map((file) => new URL(file, docs));
  return [new URL('../../README.md', import.meta.url), ...files].map((file) => readFileSync(file, 'utf8')).join('\n');
}

describe('README and docs', () => {
  it('should show the example Indexes exactly as tested here', () => {
    const indexesDoc = readFileSync(new URL('../../docs/indexes.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(indexesDoc)?.[1];
    const example = readFileSync(new URL('./DayIndexes.ts', import.meta.url), 'utf8')
      .replace("from '../../src/index'", "from 'tablecache-web'")
      .replace(/\nexport \{[^}]*\};\n$/, '');
    expect(block?.trim()).toBe(example.trim());
  });

  // The UI examples are test files, so that `npm run typecheck` compiles them (the package resolves to src/ through
  // the `source` condition); the README shows each verbatim.
  describe('UI framework examples', () => {
    const readme = documentation();
    const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, code]) => ({ lang, code: code!.trim() }));

    it.each([
      ['Readings.tsx', 'tsx'],
      ['useRecords.vue.ts', 'ts'],
      ['Readings.svelte', 'svelte'],
      ['viteConfig.ts', 'ts'],
    ])('should show %s verbatim in a %s block', (file, lang) => {
      const example = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8').trim();
      expect(blocks.filter((block) => block.lang === lang && block.code === example)).toHaveLength(1);
    });

    it("should tell Vite to pre-bundle every entry of the exports map but React's", async () => {
      const { default: config } = await import('./viteConfig');
      const { exports } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        exports: Record<string, unknown>;
      };
      const entries = Object.keys(exports)
        .filter((entry) => entry !== './package.json' && entry !== './react')
        .map((entry) => entry.replace(/^\./, 'tablecache-web'));
      expect(config.optimizeDeps?.include).toEqual(entries);
    });

    it('should show a Svelte component that Svelte compiles, reading the store with $', () => {
      const source = readFileSync(new URL('./Readings.svelte', import.meta.url), 'utf8');
      const { js, warnings } = compile(source, { filename: 'Readings.svelte', generate: 'client' });
      expect(warnings).toEqual([]);
      expect(js.code).toContain('createRecordsStore');
      expect(js.code).toMatch(/store_get|\$latest/);
    });
  });

  describe('DayIndexes example', () => {
    it('should cache a run of whole days through RestDbAccess-shaped fetches, fetching only the days added', async () => {
      const records: DayReading[] = Array.from({ length: 40 }, (_, i) => ({ id: i, ts: i * (DAY / 4), value: i }));
      const requests: string[] = [];
      const db = {
        async *getRecords({ path, query }: RestRecordsSpec) {
          const { ge, lt } = query as { ge: number; lt: number };
          requests.push(`${path} ${ge / DAY}..${lt / DAY}`);
          yield* records.filter((record) => record.ts >= ge && record.ts < lt);
        },
      };
      const indexes = new DayIndexes();
      const table = new CachedTable(indexes, db, new MemoryStorageTable(indexes));
      const ids = async (first: number, last: number) =>
        (await collect(table.getRecords({ indexName: 'day', first, last }))).map((record) => record.id).sort((a, b) => a - b);
      await table.load({ indexName: 'day', first: 1, last: 2 });
      await table.adjust({ indexName: 'day', first: 2, last: 3 }); // day 1 falls out, day 3 is fetched
      await table.adjust({ indexName: 'day', first: 1, last: 3 }); // day 1 is fetched again
      await table.adjust({ indexName: 'day', first: 2, last: 2 }); // inside what is held: no fetch, days 1 and 3 expire
      await table.adjust({ indexName: 'day', first: 5, last: 6 }); // apart from what is held: the whole run
      expect(requests).toEqual(['readings 1..3', 'readings 3..4', 'readings 1..2', 'readings 5..7']);
      expect(await ids(5, 6)).toEqual([20, 21, 22, 23, 24, 25, 26, 27]);
      expect(table.stats().reads.cacheHit).toBe(1);
      expect(table.stats().expired).toBe(4 + 8 + 4); // day 1, days 1 and 3, day 2
      await table.adjust({ indexName: 'day', first: 4, last: 7 }); // both sides of what is held: the whole run again
      expect(requests.at(-1)).toBe('readings 4..8');
      expect(await ids(4, 7)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    });
  });
});
