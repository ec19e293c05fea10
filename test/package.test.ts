import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndPack, installConsumer, root, type PackedPackage } from './package/packedPackage';
import { buildPage } from './package/pageBundle';

const packageJson = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
  exports: Record<string, { types: string; import: string } | string>;
};

/** The library's share of a page that only connects to the worker, gzipped (issue 17). */
const PAGE_BUDGET_GZIP_BYTES = 8 * 1024;

/** Runs a command of this repository's `node_modules/.bin`; resolves with its exit status and output. */
function runBin(bin: string, args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(join(root, 'node_modules', '.bin', bin), args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Like `runBin`, without blocking: for the consumer compiles, which run side by side. */
function startBin(bin: string, args: readonly string[], cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(join(root, 'node_modules', '.bin', bin), args, { cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const resolutions = [
  { moduleResolution: 'bundler', module: 'esnext' },
  { moduleResolution: 'node16', module: 'node16' },
  { moduleResolution: 'nodenext', module: 'nodenext' },
] as const;

let packed: PackedPackage;
const compiles = new Map<string, Promise<{ status: number | null; output: string }>>();

/** A consumer project of the tarball with `moduleResolution`, compiled by `tsc` (with `skipLibCheck` off). */
function compileConsumer({ moduleResolution, module }: (typeof resolutions)[number]): Promise<{ status: number | null; output: string }> {
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'es2022',
      lib: ['es2022', 'dom', 'dom.iterable'],
      module,
      moduleResolution,
      types: [],
    },
    include: ['src'],
  };
  const linked = ['comlink', 'zod', 'sorted-btree', '@types/react', 'csstype'];
  const dir = installConsumer(join(packed.dir, `consumer-${moduleResolution}`), packed.tarball, linked, {
    'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    'tsconfig.json': JSON.stringify(tsconfig),
    'src/consumer.ts': readFileSync(new URL('./package/fixtures/consumer.ts', import.meta.url), 'utf8'),
  });
  return startBin('tsc', ['-p', dir], dir);
}

// One build and one pack serve every check of this file; the three consumer compiles start at once, side by side.
beforeAll(() => {
  packed = buildAndPack();
  for (const resolution of resolutions) compiles.set(resolution.moduleResolution, compileConsumer(resolution));
}, 180_000);

afterAll(() => packed?.dispose());

describe('package', () => {
  it('should build every entry of the exports map, usable from plain Node without browser globals', () => {
    for (const [entry, target] of Object.entries(packageJson.exports)) {
      if (typeof target === 'string') continue;
      expect(existsSync(`${root}/${target.import}`), `${entry} → ${target.import}`).toBe(true);
      expect(existsSync(`${root}/${target.types}`), `${entry} → ${target.types}`).toBe(true);
    }
    const script = `
      import { MemoryStorageTable, CachedTable, RangeIndexes, Interval } from 'tablecache-web';
      import { IdbStorageTable } from 'tablecache-web/idb';
      import { connectCachedTable } from 'tablecache-web/worker';
      const indexes = new RangeIndexes({ indexName: 't', primaryKey: (r) => r.id, score: (r) => r.t, dbRecordsSpecForRange: () => null });
      const storage = new MemoryStorageTable(indexes);
      await storage.putRecords([{ id: 1, t: 5 }]);
      const found = [];
      for await (const r of storage.getRecords(indexes.storageRecordsSpec({ indexName: 't', ge: 0, lt: 10 }))) found.push(r.id);
      console.log(JSON.stringify({ found, idb: typeof IdbStorageTable.open, connect: typeof connectCachedTable, table: typeof CachedTable, interval: String(new Interval(0, 1)) }));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ found: [1], idb: 'function', connect: 'function', table: 'function', interval: '[0, 1)' });
  }, 60_000);

  it("should ship docs/, so that the README's links resolve in the installed package", () => {
    const docs = readdirSync(new URL('../docs/', import.meta.url)).filter((file) => file.endsWith('.md'));
    expect(docs.length).toBeGreaterThan(0);
    for (const file of docs) expect(packed.files).toContain(`docs/${file}`);
  });

  it('should ship the MIT LICENSE, and the module and declarations of every entry', () => {
    expect(packed.files).toContain('LICENSE');
    expect(readFileSync(`${root}/LICENSE`, 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 tablecache-web contributors\n/);
    for (const target of Object.values(packageJson.exports)) {
      const paths = typeof target === 'string' ? [target] : [target.import, target.types];
      for (const path of paths) expect(packed.files).toContain(path.replace(/^\.\//, ''));
    }
  });

  it('should import react only in the react entry', () => {
    const importers = packed.files.filter(
      (path) => path.endsWith('.js') && /\bfrom\s*["']react["']/.test(readFileSync(`${root}/${path}`, 'utf8')),
    );
    expect(importers).toEqual(['dist/react.js']);
  });

  it('should install quietly: every dependency with an install script is approved or denied in allowScripts', () => {
    const listed = spawnSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8' });
    expect(`${listed.stdout}${listed.stderr}`).toMatch(/^No packages with unreviewed install scripts\.?\s*$/);
    expect(listed.status).toBe(0);
  }, 60_000);

  describe('types', () => {
    it.each(resolutions)(
      'should compile a consumer of every entry under moduleResolution $moduleResolution, with skipLibCheck off',
      async ({ moduleResolution }) => {
        const { status, output } = await compiles.get(moduleResolution)!;
        expect(output).toBe('');
        expect(status).toBe(0);
      },
      180_000,
    );

    it('should pass publint, warnings included', () => {
      const { status, output } = runBin('publint', ['run', packed.tarball, '--strict'], packed.dir);
      expect(status, output).toBe(0);
    }, 60_000);

    it('should pass Are the Types Wrong for ESM consumers (node16 and bundler resolution)', () => {
      // `esm-only`: the package is ESM only ("type": "module", `import` conditions), so CommonJS `require` is not offered.
      const { status, output } = runBin('attw', [packed.tarball, '--profile', 'esm-only', '--format', 'ascii'], packed.dir);
      expect(status, output).toBe(0);
    }, 60_000);
  });

  describe('page bundle', () => {
    it.each(['tablecache-web/worker', 'tablecache-web'])(
      'should keep a page that only connects to the worker (from %s) under 8 kB gzipped, without zod or storage code',
      async (entry) => {
        const dir = installConsumer(
          join(packed.dir, `page-${entry.replace('/', '-')}`),
          packed.tarball,
          ['comlink', 'zod', 'sorted-btree'],
          {
            'package.json': JSON.stringify({ name: 'page', private: true, type: 'module' }),
            'page.js': [
              `import { connectCachedTable, connectSharedCachedTable } from '${entry}';`,
              `export const table = connectCachedTable(new Worker('/table.worker.js', { type: 'module' }));`,
              `export const shared = () => connectSharedCachedTable({ worker: () => new Worker('/table.worker.js', { type: 'module' }) });`,
            ].join('\n'),
          },
        );
        const bundle = await buildPage(dir, 'page.js');
        console.log(
          `page importing the client from '${entry}': the library's share is ${(bundle.bytes / 1024).toFixed(1)} kB, ` +
            `${(bundle.gzipBytes / 1024).toFixed(1)} kB gzipped (budget ${PAGE_BUDGET_GZIP_BYTES / 1024} kB); pulls ${bundle.dependencies.join(', ')}`,
        );
        expect(bundle.dependencies).toEqual(['comlink']);
        expect(bundle.modules.filter((id) => /\/(storage|indexes)\/|schemas|zod/.test(id))).toEqual([]);
        expect(bundle.gzipBytes).toBeLessThanOrEqual(PAGE_BUDGET_GZIP_BYTES);
      },
      60_000,
    );
  });
});
