/** A bench record: about 200 bytes as structured clone / JSON, shaped like the demo's readings. */
export interface BenchRecord {
  id: number;
  sensor: string;
  ts: number;
  value: number;
  unit: string;
  quality: number;
  note: string;
}

const notes = [
  'calibrated on site by the maintenance team',
  'reading within the expected band for this hour',
  'sensor reports nominal battery and signal levels',
  'value smoothed over the last three samples',
];

/** `count` records with ids from `first`, one every `stepMs` from `start`. */
export function makeRecords(count: number, first = 0, start = Date.UTC(2026, 10, 1), stepMs = 1000): BenchRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = first + i;
    return {
      id,
      sensor: `sensor-${String(id % 48).padStart(2, '0')}`,
      ts: start + id * stepMs,
      value: Math.round(Math.sin(id / 100) * 1000) / 10,
      unit: 'celsius',
      quality: id % 5,
      note: `${notes[id % notes.length] as string} (#${id})`,
    };
  });
}
