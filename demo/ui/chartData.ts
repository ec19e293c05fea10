import type { Reading } from './types';

/** uPlot's aligned data: x in seconds, then one series per sensor (null where another sensor's reading is). */
export type ChartData = [xs: number[], ...series: (number | null)[][]];

/** The readings as one series per sensor over a shared, sorted time axis. */
export function toChartData(readings: readonly Reading[]): { sensors: string[]; data: ChartData } {
  const sensors = [...new Set(readings.map((reading) => reading.sensor))].sort();
  const column = new Map(sensors.map((sensor, i) => [sensor, i]));
  const sorted = [...readings].sort((a, b) => a.ts - b.ts || a.id - b.id);
  const xs = sorted.map((reading) => reading.ts / 1000);
  const series = sensors.map(() => new Array<number | null>(sorted.length).fill(null));
  sorted.forEach((reading, row) => {
    (series[column.get(reading.sensor) as number] as (number | null)[])[row] = reading.value;
  });
  return { sensors, data: [xs, ...series] };
}
