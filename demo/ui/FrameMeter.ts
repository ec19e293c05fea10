import { h } from './dom';

/** Frame times over a sliding window of the last `windowMs`. */
export class FrameStats {
  private readonly frames: { at: number; duration: number }[] = [];

  constructor(private readonly windowMs = 1000) {}

  /** Records a frame that ended at `at` (ms), `duration` ms after the previous one. */
  push(at: number, duration: number): void {
    this.frames.push({ at, duration });
    while (this.frames.length > 0 && (this.frames[0]?.at ?? at) <= at - this.windowMs) this.frames.shift();
  }

  /** Frames per second over the window. */
  get fps(): number {
    return (this.frames.length * 1000) / this.windowMs;
  }

  /** The longest frame in the window, in ms. */
  get worst(): number {
    return this.frames.reduce((worst, frame) => Math.max(worst, frame.duration), 0);
  }

  /** Frames in the window that took longer than `budget` ms (dropped frames at 60 Hz for 1000/60·2). */
  slowFrames(budget = 34): number {
    return this.frames.filter((frame) => frame.duration > budget).length;
  }
}

/**
 * An animation driven by the main thread (requestAnimationFrame, not CSS, so
 * that a busy main thread would visibly stutter it), with the frame rate and
 * the worst frame of the last second.
 */
export class FrameMeter {
  readonly element: HTMLElement;
  readonly stats = new FrameStats();
  private readonly dot: HTMLElement;
  private readonly readout: HTMLElement;
  private last = 0;
  private frame = 0;

  constructor() {
    this.dot = h('span', { className: 'meter-dot', 'aria-hidden': 'true' });
    this.readout = h('p', { className: 'meter-readout' }, '– fps');
    this.element = h(
      'section',
      { className: 'panel meter', 'aria-labelledby': 'meter-title' },
      h('h2', { id: 'meter-title' }, 'Main thread'),
      h('div', { className: 'meter-track', 'aria-hidden': 'true' }, this.dot),
      this.readout,
    );
  }

  start(): void {
    const tick = (now: number) => {
      if (this.last) this.stats.push(now, now - this.last);
      this.last = now;
      const phase = (now % 2000) / 2000;
      this.dot.style.transform = `translateX(${Math.abs(phase * 2 - 1) * 100}%)`;
      if (++this.frame % 15 === 0) {
        this.readout.textContent = `${Math.round(this.stats.fps)} fps · worst frame ${Math.round(this.stats.worst)} ms · ${this.stats.slowFrames()} slow frames in the last second`;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}
