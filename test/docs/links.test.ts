import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenReferences, commentsOf, documentationFiles, headingSlugs, markdownLinks, repositoryPaths, sourceFiles } from './docLinks';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('docLinks', () => {
  describe('headingSlugs', () => {
    it('should make the anchors GitHub makes, numbering repeated headings', () => {
      const slugs = headingSlugs(
        [
          '# The worker boundary: `exposeCachedTable` / `connectCachedTable`',
          '## `connectCachedTable<R, S>(endpoint, { batchSize = 500 })` → `CachedTableClient<R, S>`',
          '### Limits',
          '```sh',
          '# not a heading',
          '```',
          '### Limits',
          '## Offline-first: `resume()`, stale records',
        ].join('\n'),
      );
      expect([...slugs]).toEqual([
        'the-worker-boundary-exposecachedtable--connectcachedtable',
        'connectcachedtabler-sendpoint--batchsize--500---cachedtableclientr-s',
        'limits',
        'limits-1',
        'offline-first-resume-stale-records',
      ]);
    });
  });

  describe('markdownLinks', () => {
    it('should list relative links outside code, and leave out URLs with a scheme', () => {
      const links = markdownLinks(
        'See [tabs](docs/tabs.md#limits), [home](https://example.com) and `[not](a-link.md)`.\n```\n[code](x.md)\n```\n[top](#commands)',
      );
      expect(links).toEqual(['docs/tabs.md#limits', '#commands']);
    });
  });

  describe('repositoryPaths', () => {
    it('should find paths under the top-level folders and root Markdown files, cutting globs and templates', () => {
      const paths = repositoryPaths(
        'See `src/db/RestDbAccess.ts`, docs/tabs.md#limits, test/**/*.browser.test.ts, `src/${name}.ts`, README.md and ./local.ts or /work/elsewhere/src/x.ts.',
      );
      expect(paths).toEqual(['src/db/RestDbAccess.ts', 'docs/tabs.md#limits', 'test/', 'src/', 'README.md']);
    });
  });

  describe('commentsOf', () => {
    it('should read every comment, and no string or template that looks like one', () => {
      const comments = commentsOf(
        [
          "const a = '// src/no.ts';",
          'const b = `${a} /* src/neither.ts */`; // src/yes.ts',
          '/** docs/also.md */',
          'function f() {',
          '  return 1;',
          '  // at the end',
          '}',
        ].join('\n'),
        'x.ts',
      );
      expect(comments).toBe('// src/yes.ts\n/** docs/also.md */\n// at the end');
    });
  });

  describe('brokenReferences', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doc-links-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };

    it('should report each missing file, missing anchor and missing repository path, and nothing that exists', () => {
      write('docs/a.md', '# A\n\n## Present heading\n\n[ok](#present-heading) [ok](../README.md#top) [gone](#absent) [gone](b.md)\n');
      write('README.md', '# Top\n\nSee `docs/a.md#present-heading`, `src/gone.ts` and [up](../outside.md).\n');
      write('src/x.ts', '// See docs/a.md#absent and src/x.ts.\nexport const x = 1;\n');
      expect(brokenReferences(dir, ['README.md', 'docs/a.md'], ['src/x.ts'])).toEqual([
        { file: 'README.md', target: '../outside.md', reason: 'points outside the repository' },
        { file: 'README.md', target: 'src/gone.ts', reason: 'no such file or folder' },
        { file: 'docs/a.md', target: '#absent', reason: 'no heading #absent' },
        { file: 'docs/a.md', target: 'b.md', reason: 'no such file or folder' },
        { file: 'src/x.ts', target: 'docs/a.md#absent', reason: 'no heading #absent' },
      ]);
    });
  });
});

describe('the repository', () => {
  it('should check the README, every file of docs/ and the demo README', () => {
    const files = documentationFiles(root);
    expect(files).toContain('README.md');
    expect(files).toContain('docs/tabs.md');
    expect(files).toContain('demo/README.md');
  });

  it('should cite only files, folders and anchors that exist, in its docs and in the comments of src/, demo/, bench/ and test/', () => {
    expect(brokenReferences(root, documentationFiles(root), sourceFiles(root))).toEqual([]);
  }, 30_000);
});
