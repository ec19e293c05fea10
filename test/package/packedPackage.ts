import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The library built and packed once, as `npm publish` would ship it. */
export interface PackedPackage {
  /** The temporary directory everything of this run lives in. */
  readonly dir: string;
  /** The `.tgz` made by `npm pack`. */
  readonly tarball: string;
  /** The paths inside the tarball, without the `package/` prefix. */
  readonly files: readonly string[];
  /** Removes `dir`. */
  dispose(): void;
}

/** Runs `npm run build` (into the repository's `dist/`) and `npm pack` into a fresh temporary directory. */
export function buildAndPack(): PackedPackage {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'tablecache-web-pack-'));
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const tarball = join(dir, name);
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
  return { dir, tarball, files, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A consumer project in `dir`: the tarball unpacked as `node_modules/tablecache-web`, and `linked` packages
 * (its dependencies, type packages) linked from this repository's `node_modules`, as an install would place them.
 */
export function installConsumer(dir: string, tarball: string, linked: readonly string[], files: Record<string, string>): string {
  const target = join(dir, 'node_modules', 'tablecache-web');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
  for (const name of linked) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), link, 'dir');
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
