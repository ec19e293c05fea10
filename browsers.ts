/**
 * The three browser engines every browser test runs in, each from Debian's packages, never a downloaded one:
 *
 * - `chromium`: `/usr/bin/chromium` (or `CHROMIUM_PATH`), driven by playwright-core (see `chromium.ts`).
 * - `firefox`: Firefox ESR, `/usr/bin/firefox-esr` (or `FIREFOX_PATH`), driven by puppeteer-core over WebDriver BiDi.
 * - `webkit`: WebKitGTK's `MiniBrowser` (package libwebkit2gtk-4.1-0, or `WEBKIT_MINIBROWSER_PATH`), driven by
 *   `WebKitWebDriver` (package webkit2gtk-driver) over W3C WebDriver, on an `Xvfb` display (package xvfb).
 *
 * `ENGINES=chromium,firefox` (a comma-separated list) runs a subset; by default all three run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumPath } from './chromium';

export type Engine = 'chromium' | 'firefox' | 'webkit';
export const allEngines: readonly Engine[] = ['chromium', 'firefox', 'webkit'];

export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const webkitDriverPath = process.env.WEBKIT_WEBDRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const xvfbPath = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

/** Where Debian's libwebkit2gtk-4.1-0 put MiniBrowser (its path holds the architecture triplet). */
export function miniBrowserPath(): string | undefined {
  if (process.env.WEBKIT_MINIBROWSER_PATH) return process.env.WEBKIT_MINIBROWSER_PATH;
  try {
    const files = execFileSync('dpkg', ['-L', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return files.split('\n').find((line) => line.endsWith('/MiniBrowser'));
  } catch {
    return undefined;
  }
}

/** The Debian packages that provide each engine, for the warning and for `.ci/run`. */
export const enginePackages: Record<Engine, string> = {
  chromium: 'chromium',
  firefox: 'firefox-esr',
  webkit: 'webkit2gtk-driver xvfb',
};

/** The binaries an engine needs that are not on this machine (empty when it can run). */
export function missingBinaries(engine: Engine): string[] {
  const needed: Record<Engine, (string | undefined)[]> = {
    chromium: [chromiumPath],
    firefox: [firefoxPath],
    webkit: [webkitDriverPath, xvfbPath, miniBrowserPath() ?? 'MiniBrowser (libwebkit2gtk-4.1-0)'],
  };
  return needed[engine].filter((path): path is string => !path || !existsSync(path));
}

function requestedEngines(): Engine[] {
  const list = process.env.ENGINES?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!list?.length) return [...allEngines];
  for (const name of list)
    if (!allEngines.includes(name as Engine))
      throw new Error(`ENGINES names an unknown engine "${name}"; known: ${allEngines.join(', ')}.`);
  return list as Engine[];
}

/**
 * The engines to run: those requested whose binaries are here. A missing one is skipped with a loud warning,
 * except when `CI` is set: then it throws, since CI must run every engine.
 */
export function availableEngines(): Engine[] {
  const available: Engine[] = [];
  for (const engine of requestedEngines()) {
    const missing = missingBinaries(engine);
    if (!missing.length) {
      available.push(engine);
      continue;
    }
    if (process.env.CI)
      throw new Error(`CI is set but ${engine} is missing (${missing.join(', ')}): every engine's browser suites must run.`);
    console.warn(
      `\n${'!'.repeat(78)}\n!! ${engine} not found (${missing.join(', ')}): SKIPPING its real-browser test suites.\n` +
        `!! Install it (apt-get install -y ${enginePackages[engine]}) or set its path (see browsers.ts).\n${'!'.repeat(78)}\n`,
    );
  }
  return available;
}
