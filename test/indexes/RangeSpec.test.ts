import type { z } from 'zod';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { RangeIndexes, type RangeSpec, type ScoreBound } from '../../src/indexes/RangeIndexes';
import type { scoreBound } from '../../src/indexes/schemas';
import type { CachedTableClient } from '../../src/worker/CachedTableClient';

interface Product {
  id: number;
  price: number;
}

const indexes = new RangeIndexes<Product, number, [number, number], 'price'>({
  indexName: 'price',
  primaryKey: (product) => product.id,
  score: (product) => product.price,
  dbRecordsSpecForRange: (ge, lt) => [ge, lt],
});

describe('RangeSpec', () => {
  it('should type its bounds as exactly what the spec schema accepts', () => {
    expectTypeOf<RangeSpec['ge']>().toEqualTypeOf<z.input<typeof scoreBound>>();
    expectTypeOf<RangeSpec['lt']>().toEqualTypeOf<ScoreBound>();
    expectTypeOf<z.input<typeof indexes.specSchema>>().toEqualTypeOf<RangeSpec<'price'>>();
  });

  it('should let a client read with ISO string and Date bounds, which the Indexes read as epoch ms', () => {
    const read = (client: CachedTableClient<Product, RangeSpec<'price'>>) =>
      client.getRecords({ indexName: 'price', ge: '2026-01-01T00:00:00Z', lt: new Date(Date.UTC(2026, 0, 2)) });
    expectTypeOf(read).returns.toEqualTypeOf<AsyncIterable<Product>>();
    expect(indexes.dbRecordsSpec({ indexName: 'price', ge: '2026-01-01T00:00:00Z', lt: new Date(Date.UTC(2026, 0, 2)) })).toEqual([
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 2),
    ]);
  });
});
