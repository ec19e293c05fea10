import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { blocksOf, codeBlocks, typeCheck } from './codeBlocks';
import { documentationFiles } from './docLinks';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('codeBlocks', () => {
  describe('codeBlocks', () => {
    it('should take ts and tsx blocks, named by their first comment when it names a file', () => {
      const blocks = codeBlocks(
        'doc.md',
        [
          '```ts',
          '// a.ts — the first',
          'export const a = 1;',
          '```',
          '```sh',
          'npm test',
          '```',
          '```tsx',
          'const b = <p />;',
          '```',
        ].join('\n'),
      );
      expect(blocks.map(({ lang, fileName, line }) => ({ lang, fileName, line }))).toEqual([
        { lang: 'ts', fileName: 'a.ts', line: 1 },
        { lang: 'tsx', fileName: 'block8.tsx', line: 8 },
      ]);
    });
  });

  // One program checks the docs and this example (a program costs tens of seconds on a loaded machine).
  const example = codeBlocks(
    'example.md',
    [
      '```ts',
      '// a.ts — exports a number',
      'export const a = 1;',
      '```',
      '',
      '```ts',
      "import { a } from './a';",
      'const b: string = a;',
      '```',
    ].join('\n'),
  );
  let diagnostics: string[] = [];
  beforeAll(() => {
    diagnostics = typeCheck(root, [...example, ...blocksOf(root, documentationFiles(root))]);
  }, 180_000);

  describe('typeCheck', () => {
    it("should report a block's type error at its line in the doc, and let blocks of one doc import each other", () => {
      expect(diagnostics.filter((diagnostic) => diagnostic.startsWith('example.md'))).toEqual([
        "example.md:8 (block6.ts): Type 'number' is not assignable to type 'string'.",
      ]);
    });
  });

  describe('the code blocks of README and docs', () => {
    it('should all compile against the library', () => {
      expect(diagnostics.filter((diagnostic) => !diagnostic.startsWith('example.md'))).toEqual([]);
    });
  });
});
