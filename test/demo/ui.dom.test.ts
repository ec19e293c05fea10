import { describe, expect, it, vi } from 'vitest';
import { toChartData } from '../../demo/ui/chartData';
import { FrameStats } from '../../demo/ui/FrameMeter';
import { describeRead, ReadLog, readOrigin } from '../../demo/ui/ReadLog';
import { RecordsTable } from '../../demo/ui/RecordsTable';
import { StatsPanel } from '../../demo/ui/StatsPanel';
import { StatusBar } from '../../demo/ui/StatusBar';
import type { Reading } from '../../demo/ui/types';
import { pan, ViewControl, zoom } from '../../demo/ui/ViewControl';
import { WindowControl } from '../../demo/ui/WindowControl';

const reading = (id: number, ts: number, extra: Partial<Reading> = {}): Reading => ({
  id,
  sensor: `sensor-${id % 2}`,
  ts,
  value: id / 2,
  note: null,
  ...extra,
});

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('demo UI', () => {
  describe('StatsPanel', () => {
    it('should show every counter, formatted', () => {
      const panel = new StatsPanel();
      panel.update({
        reads: { cacheHit: 1234, cacheHitWithRefresh: 2, cacheMiss: 3, partialHit: 4, servedStale: 5 },
        refreshes: 6,
        adjustments: 7,
        expired: 8,
        loaded: 100000,
      });
      const pairs = [...panel.element.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]);
      expect(pairs).toContainEqual(['Hits', '1,234']);
      expect(pairs).toContainEqual(['Records loaded', '100,000']);
      expect(pairs).toContainEqual(['Served stale', '5']);
      expect(pairs).toHaveLength(9);
    });
  });

  describe('RecordsTable', () => {
    it('should render records as text, never as HTML', () => {
      const table = new RecordsTable(async () => {});
      table.render([reading(1, 0, { note: '<img src=x onerror=alert(1)>', sensor: '<b>s</b>' })]);
      expect(table.element.querySelector('img')).toBeNull();
      expect(table.element.querySelector('b')).toBeNull();
      expect(table.element.querySelector('tbody')?.textContent).toContain('<img src=x onerror=alert(1)>');
    });

    it('should show the newest readings first, at most the limit', () => {
      const table = new RecordsTable(async () => {}, 2);
      table.render([reading(1, 1000), reading(2, 3000), reading(3, 2000)]);
      const ids = [...table.element.querySelectorAll('tbody tr')].map((row) => row.getAttribute('data-id'));
      expect(ids).toEqual(['2', '3']);
      expect(table.element.querySelector('caption')?.textContent).toBe('Newest 2 of 3 readings');
    });

    it('should hand an edited value to the handler and say when it is saved', async () => {
      const onEdit = vi.fn(async () => {});
      const table = new RecordsTable(onEdit);
      table.render([reading(7, 0)]);
      const input = table.element.querySelector('input') as HTMLInputElement;
      expect(input.getAttribute('aria-label')).toBe('Value of reading 7');
      input.value = '42.5';
      input.dispatchEvent(new Event('change'));
      expect(input.disabled).toBe(true);
      await flush();
      expect(onEdit).toHaveBeenCalledWith(reading(7, 0), 42.5);
      expect(table.element.querySelector('.edit-status')?.textContent).toBe('Saved');
      expect(input.disabled).toBe(false);
    });

    it('should show why a save failed', async () => {
      const table = new RecordsTable(async () => {
        throw new Error('backend unreachable');
      });
      table.render([reading(7, 0)]);
      const input = table.element.querySelector('input') as HTMLInputElement;
      input.value = '1';
      input.dispatchEvent(new Event('change'));
      await flush();
      expect(table.element.querySelector('.edit-status')?.textContent).toBe('backend unreachable');
    });

    it('should refuse a value that is not a number without calling the handler', () => {
      const onEdit = vi.fn(async () => {});
      const table = new RecordsTable(onEdit);
      table.render([reading(7, 0)]);
      const input = table.element.querySelector('input') as HTMLInputElement;
      input.value = '';
      input.dispatchEvent(new Event('change'));
      expect(onEdit).not.toHaveBeenCalled();
      expect(input.getAttribute('aria-invalid')).toBe('true');
    });
  });

  describe('WindowControl', () => {
    it('should ask for the chosen window, busy until it is held', async () => {
      let finish!: () => void;
      const onChange = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
      const control = new WindowControl(onChange, [3, 7, 30], 3);
      const seven = control.element.querySelector('[data-days="7"]') as HTMLButtonElement;
      seven.click();
      expect(onChange).toHaveBeenCalledWith(7, expect.any(AbortSignal));
      expect(control.element.getAttribute('aria-busy')).toBe('true');
      expect(seven.disabled).toBe(true);
      expect(seven.getAttribute('aria-pressed')).toBe('true');
      control.showProgress(500, 2000);
      const progress = control.element.querySelector('progress') as HTMLProgressElement;
      expect(progress.hidden).toBe(false);
      expect(progress.value).toBe(500);
      expect(progress.max).toBe(2000);
      expect(control.element.querySelector('.window-message')?.textContent).toBe('Loading… 500 of 2,000 records (25%)');
      control.showProgress(700);
      expect(progress.hasAttribute('value')).toBe(false);
      expect(control.element.querySelector('.window-message')?.textContent).toBe('Loading… 700 records');
      finish();
      await flush();
      expect(control.element.hasAttribute('aria-busy')).toBe(false);
      expect(progress.hidden).toBe(true);
      expect(control.days).toBe(7);
    });

    it('should mark a restored window as held without asking for it, so that choosing another one adjusts', async () => {
      const onChange = vi.fn(async () => undefined);
      const control = new WindowControl(onChange, [3, 7, 30], 3);
      control.showHeld(30, 'Resumed');
      expect(onChange).not.toHaveBeenCalled();
      expect(control.days).toBe(30);
      expect(control.element.querySelector('[data-days="30"]')?.getAttribute('aria-pressed')).toBe('true');
      expect(control.element.querySelector('[data-days="3"]')?.getAttribute('aria-pressed')).toBe('false');
      expect(control.element.querySelector('.window-message')?.textContent).toBe('Resumed');
      (control.element.querySelector('[data-days="3"]') as HTMLButtonElement).click();
      await flush();
      expect(onChange).toHaveBeenCalledWith(3, expect.anything());
      expect(control.days).toBe(3);
    });

    it('should abort the running adjust from its Cancel button, and keep the window it held', async () => {
      let seen!: AbortSignal;
      const onChange = vi.fn(
        (_days: number, signal: AbortSignal) =>
          new Promise<void>((_resolve, reject) => {
            seen = signal;
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      );
      const control = new WindowControl(onChange, [3, 7, 30], 3);
      const cancel = control.element.querySelector('.window-cancel') as HTMLButtonElement;
      expect(cancel.hidden).toBe(true);
      (control.element.querySelector('[data-days="30"]') as HTMLButtonElement).click();
      expect(cancel.hidden).toBe(false);
      expect(seen.aborted).toBe(false);
      cancel.click();
      expect(seen.aborted).toBe(true);
      await flush();
      expect(cancel.hidden).toBe(true);
      expect(control.days).toBe(3);
      expect(control.element.hasAttribute('aria-busy')).toBe(false);
      expect(control.element.querySelector('.window-message')?.textContent).toBe('Cancelled: still holding the last 3 days.');
    });

    it('should go back to the previous window when the adjust fails', async () => {
      const control = new WindowControl(async () => {
        throw new Error('offline');
      });
      (control.element.querySelector('[data-days="30"]') as HTMLButtonElement).click();
      await flush();
      expect(control.days).toBe(3);
      expect(control.element.querySelector('[data-days="3"]')?.getAttribute('aria-pressed')).toBe('true');
      expect(control.element.querySelector('.window-message')?.textContent).toBe('Could not adjust: offline');
    });
  });

  describe('ReadLog', () => {
    it('should name the origin of a read from the client result', () => {
      expect(readOrigin({ from: 'storage' })).toBe('storage');
      expect(readOrigin({ from: 'storage', refreshed: true })).toBe('storage after refresh');
      expect(readOrigin({ from: 'db' })).toBe('backend');
      expect(readOrigin({ from: 'mixed' })).toBe('storage + backend');
      expect(readOrigin({ from: 'storage', stale: true })).toBe('stale storage');
    });

    it('should describe a read with its counts and duration', () => {
      const range = { ge: 0, lt: 1 };
      expect(describeRead({ range, origin: 'storage', records: 5000, ms: 12.3 })).toBe('5,000 records from storage in 12 ms');
      expect(describeRead({ range, origin: 'storage + backend', records: 10, ms: 1500, counts: { storage: 9, db: 1 } })).toBe(
        '10 records from storage + backend (9 from storage, 1 from the backend) in 1.5 s',
      );
      expect(describeRead({ range, origin: 'storage', records: 3 })).toBe('3 records from storage (live update)');
    });

    it('should keep the latest reads, newest first', () => {
      const log = new ReadLog(2);
      for (const records of [1, 2, 3]) log.add({ range: { ge: 0, lt: 60_000 }, origin: 'backend', records, ms: 1 });
      const items = [...log.element.querySelectorAll('li')].map((li) => li.textContent);
      expect(items).toHaveLength(2);
      expect(items[0]).toContain('3 records');
      expect(log.element.querySelector('.read-latest')?.textContent).toBe('3 records from backend in 1 ms');
    });
  });

  describe('FrameStats', () => {
    it('should report the frame rate, the worst frame and slow frames of the last second', () => {
      const stats = new FrameStats(1000);
      let at = 0;
      for (let i = 0; i < 60; i++) stats.push((at += 16), 16);
      stats.push((at += 80), 80);
      expect(stats.worst).toBe(80);
      expect(stats.slowFrames()).toBe(1);
      expect(stats.fps).toBeGreaterThan(50);
      for (let i = 0; i < 70; i++) stats.push((at += 16), 16);
      expect(stats.worst).toBe(16);
    });
  });

  describe('StatusBar', () => {
    it('should explain an offline error and hide it again', () => {
      const bar = new StatusBar();
      bar.showError(Object.assign(new Error('fetch failed'), { offline: true }));
      const error = bar.element.querySelector('[role=alert]') as HTMLElement;
      expect(error.hidden).toBe(false);
      expect(error.textContent).toMatch(/^Offline: this range is not cached/);
      bar.showError(null);
      expect(error.hidden).toBe(true);
      bar.setBackend(false);
      expect(bar.element.querySelector('.backend-status')?.textContent).toBe('Backend: unreachable');
      bar.setStale(true);
      expect((bar.element.querySelector('.stale-badge') as HTMLElement).hidden).toBe(false);
    });
  });

  describe('StatusBar.setFeed', () => {
    it('should say Live while the change feed is live, and what else it is doing otherwise', () => {
      const bar = new StatusBar();
      const feed = bar.element.querySelector('.feed-status') as HTMLElement;
      expect([feed.textContent, feed.dataset.state]).toEqual(['Not live', 'none']);
      bar.setFeed('catching-up');
      expect([feed.textContent, feed.dataset.state]).toEqual(['Catching up…', 'catching-up']);
      bar.setFeed('live');
      expect([feed.textContent, feed.dataset.state]).toEqual(['Live', 'live']);
      bar.setFeed('offline');
      expect([feed.textContent, feed.dataset.state]).toEqual(['Live updates paused (offline)', 'offline']);
    });
  });

  describe('ViewControl', () => {
    it('should pan by half the width and zoom around the middle', () => {
      expect(pan({ ge: 0, lt: 100 }, -0.5)).toEqual({ ge: -50, lt: 50 });
      expect(zoom({ ge: 0, lt: 400_000 }, 0.5)).toEqual({ ge: 100_000, lt: 300_000 });
      expect(zoom({ ge: 0, lt: 1000 }, 0.5)).toEqual({ ge: -29_500, lt: 30_500 });
    });

    it('should report the new range when a button is pressed', () => {
      const onChange = vi.fn();
      const control = new ViewControl({ ge: 0, lt: 100_000 }, onChange, () => ({ ge: 5, lt: 6 }));
      (control.element.querySelector('[aria-label="Pan later"]') as HTMLButtonElement).click();
      expect(onChange).toHaveBeenLastCalledWith({ ge: 50_000, lt: 150_000 });
      (control.element.querySelector('[aria-label="Show the latest day"]') as HTMLButtonElement).click();
      expect(control.range).toEqual({ ge: 5, lt: 6 });
    });
  });

  describe('toChartData', () => {
    it('should put each sensor in its own series over one sorted time axis', () => {
      const { sensors, data } = toChartData([
        reading(2, 2000, { sensor: 'b', value: 20 }),
        reading(1, 1000, { sensor: 'a', value: 10 }),
        reading(3, 3000, { sensor: 'a', value: 30 }),
      ]);
      expect(sensors).toEqual(['a', 'b']);
      expect(data).toEqual([
        [1, 2, 3],
        [10, null, 30],
        [null, 20, null],
      ]);
    });
  });
});
