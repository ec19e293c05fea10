/**
 * The one place where a test is expected to fail in one engine: each entry names the engine, the test (its own
 * title) and the entry of ENGINES-TRIAGE.md that explains it. `itInEngines` runs such a test as `it.fails`, so it
 * still runs and the run turns red the day it passes (then delete the entry); everywhere else it is a plain `it`.
 */
import { it, type TestFunction } from 'vitest';
import type { Engine } from '../../browsers';

export interface KnownEngineDifference {
  readonly engine: Engine;
  /** The title given to `it`, exactly. */
  readonly test: string;
  /** The heading of ENGINES-TRIAGE.md that diagnoses it. */
  readonly triage: string;
  /** A shorter timeout for a difference that shows as a hang, ms (the test's own otherwise). */
  readonly timeout?: number;
}

// T1–T4 of ENGINES-TRIAGE.md pass in WebKit: T1–T3 since the paged IndexedDB layout, T4 since a change listener added mid-refresh is told.
export const knownEngineDifferences: readonly KnownEngineDifference[] = [];

/** The engine this test runs in: `E2E_ENGINE` in Node, the user agent in a browser. */
export function currentEngine(): Engine {
  if (typeof navigator === 'undefined' || typeof window === 'undefined') {
    const engine = process.env.E2E_ENGINE;
    return engine === 'firefox' || engine === 'webkit' ? engine : 'chromium';
  }
  const agent = navigator.userAgent;
  if (agent.includes('Firefox/')) return 'firefox';
  if (!agent.includes('Chrome/') && agent.includes('AppleWebKit/')) return 'webkit';
  return 'chromium';
}

/** The known difference of `test` in the current engine, if any. */
export function knownDifference(test: string): KnownEngineDifference | undefined {
  const engine = currentEngine();
  return knownEngineDifferences.find((difference) => difference.engine === engine && difference.test === test);
}

/** `it`, or `it.fails` with the triage reference in its title where `knownEngineDifferences` lists the test for this engine. */
export function itInEngines(name: string, fn: TestFunction, timeout?: number): void {
  const known = knownDifference(name);
  if (known)
    it.fails(
      `${name} [expected to fail in ${known.engine}: ENGINES-TRIAGE.md ${known.triage.split(' ')[0]}]`,
      fn,
      known.timeout ?? timeout,
    );
  else it(name, fn, timeout);
}
