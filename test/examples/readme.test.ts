import { readdirSync, readFileSync } from 'node:fs';
import { compile } from 'svelte/compiler';
import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { collect } from '../support/records';
import { DayIndexes, type DayReading } from './DayIndexes';

const DAY = 86_400_000;

/** The README and every file of `docs/`, as one text: each example must appear in exactly one of them. */
function documentation(): string {
  const docs = new URL('../../docs/', import.meta.url);
  const files = readdirSync(docs).filter((file) => file.endsWith('.md')).map((file) => new URL(file, docs));
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
      const { exports } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
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
