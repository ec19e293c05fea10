import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Relative module specifiers in a declaration file, in every place a
 * declaration can name a module: `import … from`, `export … from`,
 * `import '…'` and `import('…')` type queries.
 */
const relativeSpecifier = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*|\.\.?)\2/g;

/** A specifier `resolve` cannot map to a declaration file that exists. */
export class UnresolvedSpecifierError extends Error {
  constructor(
    readonly file: string,
    readonly specifier: string,
  ) {
    super(`${file}: cannot resolve '${specifier}' to a declaration file (tried '${specifier}.d.ts' and '${specifier}/index.d.ts').`);
    this.name = 'UnresolvedSpecifierError';
  }
}

/**
 * The declaration text with every extensionless relative specifier made
 * explicit, as Node's ESM resolution (`node16`/`nodenext`) requires: `./x`
 * becomes `./x.js` when `x.d.ts` exists beside it, `./x/index.js` when
 * `x/index.d.ts` does. Specifiers with an extension are kept.
 * @param file the declaration file's path, for `isFile` and error messages.
 * @throws {UnresolvedSpecifierError} for a specifier that is neither.
 */
export function rewriteDeclarationSpecifiers(text: string, file: string, isFile: (path: string) => boolean): string {
  return text.replace(relativeSpecifier, (match, prefix: string, quote: string, specifier: string) => {
    if (/\.(js|mjs|cjs|json)$/.test(specifier)) return match;
    const base = join(dirname(file), specifier);
    const isDirectory = specifier === '.' || specifier === '..' || specifier.endsWith('/');
    if (!isDirectory && isFile(`${base}.d.ts`)) return `${prefix}${quote}${specifier}.js${quote}`;
    if (isFile(join(base, 'index.d.ts'))) return `${prefix}${quote}${specifier.replace(/\/$/, '')}/index.js${quote}`;
    throw new UnresolvedSpecifierError(file, specifier);
  });
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarationFiles(path);
    return path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Rewrites every declaration file under `dir` in place; returns how many files it changed. */
export function rewriteDeclarationTree(dir: string): number {
  const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
  let changed = 0;
  for (const file of declarationFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const rewritten = rewriteDeclarationSpecifiers(text, file, isFile);
    if (rewritten === text) continue;
    changed++;
    writeFileSync(file, rewritten);
  }
  return changed;
}

// `tsx scripts/declarationSpecifiers.ts dist`, after `tsc` emitted the declarations (see the `build` script).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? 'dist';
  try {
    const changed = rewriteDeclarationTree(dir);
    console.log(
      `declarations: made the relative imports of ${changed} file(s) under ${relative(process.cwd(), dir) || '.'} explicit for node16/nodenext`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
