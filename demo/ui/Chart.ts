import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { toChartData } from './chartData';
import { h } from './dom';
import type { Reading, TimeRange } from './types';

const palette = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

/** A uPlot time-series chart of the readings in view; drag to zoom to a selection. */
export class Chart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private sensors: string[] = [];
  private readonly host: HTMLElement;

  constructor(private readonly onSelect: (range: TimeRange) => void) {
    this.host = h('div', { className: 'chart-host' });
    this.element = h(
      'figure',
      { className: 'panel chart', 'aria-labelledby': 'chart-title' },
      h('figcaption', { id: 'chart-title' }, 'Sensor readings (drag across the chart to zoom)'),
      this.host,
    );
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(this.host);
  }

  render(readings: readonly Reading[], range: TimeRange): void {
    const { sensors, data } = toChartData(readings);
    if (!this.plot || sensors.join() !== this.sensors.join()) this.create(sensors);
    this.plot?.setData(data as uPlot.AlignedData, false);
    this.plot?.setScale('x', { min: range.ge / 1000, max: range.lt / 1000 });
  }

  private create(sensors: string[]): void {
    this.plot?.destroy();
    this.sensors = sensors;
    const options: uPlot.Options = {
      ...this.size(),
      scales: { x: { time: true } },
      series: [
        { label: 'time (UTC)' },
        ...sensors.map((sensor, i) => ({
          label: sensor,
          stroke: palette[i % palette.length] as string,
          width: 1,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const ge = u.posToVal(u.select.left, 'x') * 1000;
            const lt = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.onSelect({ ge: Math.round(ge), lt: Math.round(lt) });
          },
        ],
      },
    };
    this.plot = new uPlot(options, [[], ...sensors.map(() => [])] as uPlot.AlignedData, this.host);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.host.clientWidth || 800), height: 300 };
  }
}
