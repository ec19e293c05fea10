// Readings.tsx — a React component over the worker's table.
import type { RangeSpec } from 'tablecache-web';
import { useRecords } from 'tablecache-web/react';
import type { CachedTableClient } from 'tablecache-web/worker';

interface Reading {
  id: number;
  ts: number;
  value: number;
}

interface ReadingsProps {
  readings: CachedTableClient<Reading, RangeSpec<'ts'>>;
  from: number;
  to: number;
}

export function Readings({ readings, from, to }: ReadingsProps) {
  // An inline spec is fine: specs are compared by value; a new range resubscribes, unmounting unsubscribes.
  const { records, status, stale, error } = useRecords(readings, { indexName: 'ts', ge: from, lt: to }, { keepPreviousRecords: true });
  if (status === 'loading' && records.length === 0) return <p>Loading…</p>;
  return (
    <section aria-busy={status === 'loading'}>
      {status === 'error' && <p role="alert">Could not read: {error?.message}</p>}
      {stale && <p>Offline: these readings may be out of date.</p>}
      <ul>
        {records.map((reading) => (
          <li key={reading.id}>{reading.value}</li>
        ))}
      </ul>
    </section>
  );
}
