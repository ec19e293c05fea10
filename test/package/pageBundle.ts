import { gzipSync } from 'node:zlib';
import { build, type Rolldown } from 'vite';

/** What a page's production bundle takes from the library. */
export interface PageBundle {
  /** Minified bytes of the library's code (its dependencies left out). */
  readonly bytes: number;
  /** The same, gzipped. */
  readonly gzipBytes: number;
  /** Bare imports left in the bundle: the library's dependencies that the page pulls. */
  readonly dependencies: readonly string[];
  /** The modules bundled, relative to the consumer's `node_modules`. */
  readonly modules: readonly string[];
}

/**
 * Builds `entry` (a file of the consumer project in `dir`) as an app's bundler would for production: Vite,
 * minified, tree-shaken; every bare import outside the library left external, so that the output is the
 * library's share of the page and the imports name which dependencies it pulls.
 */
export async function buildPage(dir: string, entry: string): Promise<PageBundle> {
  const output = await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      lib: { entry: `${dir}/${entry}`, formats: ['es'], fileName: 'page' },
      rolldownOptions: {
        external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('tablecache-web') && !id.startsWith('\0'),
      },
    },
  });
  const results = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const chunks = results.flatMap((result) => result.output).filter((item): item is Rolldown.OutputChunk => item.type === 'chunk');
  const code = chunks.map((chunk) => chunk.code).join('\n');
  return {
    bytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code).length,
    dependencies: [...new Set(chunks.flatMap((chunk) => chunk.imports))].sort(),
    modules: chunks.flatMap((chunk) => Object.keys(chunk.modules)).map((id) => id.replace(/^.*node_modules\//, '')),
  };
}
