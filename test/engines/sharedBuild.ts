import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const outputDir = fileURLToPath(new URL('../../test-results', import.meta.url));

/**
 * Builds `name` into `test-results/builds/<name>` once per test run, however many engines' suites ask for it:
 * the first caller builds under a lock (an atomic `mkdir`), the others wait for its marker. A run is told apart
 * by `E2E_RUN_ID` (set once by `vite.config.ts`); without one every caller builds its own copy.
 * Resolves with the folder of the build.
 */
export async function sharedBuild(name: string, build: (outDir: string) => Promise<unknown>): Promise<string> {
  const run = process.env.E2E_RUN_ID;
  if (!run) {
    const outDir = `${outputDir}/builds/${name}-${process.pid}`;
    await build(outDir);
    return outDir;
  }
  const outDir = `${outputDir}/builds/${name}`;
  const marker = `${outDir}.built`;
  const lock = `${outDir}.lock`;
  await mkdir(`${outputDir}/builds`, { recursive: true });
  const builtBy = () => readFile(marker, 'utf8').catch(() => '');
  for (let waited = 0; ; waited += 100) {
    if ((await builtBy()) === run) return outDir;
    try {
      await mkdir(lock);
      try {
        if ((await builtBy()) !== run) {
          await build(outDir);
          await writeFile(marker, run);
        }
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
      return outDir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another engine's suite is building; a lock left by a killed run is taken over after two minutes.
      if (waited > 120_000) await rm(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
