import { describe, expect, it } from 'vitest';
import { rewriteDeclarationSpecifiers, UnresolvedSpecifierError } from '../../scripts/declarationSpecifiers';

const files = new Set([
  'dist/index.d.ts',
  'dist/core/Adjustment.d.ts',
  'dist/core/keys.d.ts',
  'dist/worker/index.d.ts',
  'dist/worker.d.ts',
]);
const rewrite = (text: string, file = 'dist/index.d.ts') => rewriteDeclarationSpecifiers(text, file, (path) => files.has(path));

describe('declarationSpecifiers', () => {
  describe('rewriteDeclarationSpecifiers', () => {
    it('should give a relative specifier the .js extension of the declaration file beside it', () => {
      expect(rewrite(`export { Adjustment } from './core/Adjustment';\nimport type { PrimaryKey } from "./core/keys";`)).toBe(
        `export { Adjustment } from './core/Adjustment.js';\nimport type { PrimaryKey } from "./core/keys.js";`,
      );
    });

    it('should rewrite type queries and parent-relative specifiers', () => {
      expect(rewrite(`readonly a: import('../core/keys').PrimaryKey;`, 'dist/worker/x.d.ts')).toBe(
        `readonly a: import('../core/keys.js').PrimaryKey;`,
      );
    });

    it('should prefer the file over a folder of the same name, and use the folder index otherwise', () => {
      expect(rewrite(`export * from './worker';`)).toBe(`export * from './worker.js';`);
      expect(rewrite(`export * from './worker/';`)).toBe(`export * from './worker/index.js';`);
    });

    it('should keep explicit extensions and bare specifiers', () => {
      const text = `import { z } from 'zod';\nexport * from './core/keys.js';`;
      expect(rewrite(text)).toBe(text);
    });

    it('should fail on a relative specifier that names no declaration file', () => {
      expect(() => rewrite(`export * from './core/Missing';`)).toThrow(UnresolvedSpecifierError);
      expect(() => rewrite(`export * from './core/Missing';`)).toThrow(/dist\/index\.d\.ts: cannot resolve '\.\/core\/Missing'/);
    });
  });
});
