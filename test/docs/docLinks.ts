import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** A reference that points nowhere: where it was written, and what it cites. */
export interface BrokenReference {
  /** The file citing it, relative to the repository root. */
  file: string;
  /** The link, `path#anchor` or repository path as written. */
  target: string;
  /** Why it is broken. */
  reason: string;
}

/**
 * The anchor GitHub gives a heading: its text lowercased, every character but letters, digits, spaces, `-` and
 * `_` dropped, spaces made `-`; a repeated slug gets `-1`, `-2`, … in order.
 */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count ? `${base}-${count}` : base);
  }
  return slugs;
}

/** The lines of a Markdown text outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker && (fence === null || marker.startsWith(fence))) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence === null) lines.push(line);
  }
  return lines;
}

/** The relative targets of a Markdown text's links and images (`[text](target)`), outside code. */
export function markdownLinks(markdown: string): string[] {
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const topLevelFolders = ['src', 'test', 'demo', 'bench', 'docs', 'scripts', '.ci'];
const repositoryPath = new RegExp(
  `(?<![\\w@./-])((?:${topLevelFolders.map((folder) => folder.replace('.', '\\.')).join('|')})/[\\w.@/-]*)(#[\\w-]+)?`,
  'g',
);
const rootMarkdown = /(?<![\w@./-])([A-Z][\w-]*\.md)(#[\w-]+)?/g;

/**
 * The repository paths a text cites: paths under a top-level folder (`src/db/RestDbAccess.ts`,
 * `docs/tabs.md#limits`, `demo/server/`) and the root's Markdown files (`README.md`, `ENGINES-TRIAGE.md`), each
 * with its `#anchor` if any. A glob or a template stops the path where it starts (`test/**` cites `test/`).
 */
export function repositoryPaths(text: string): string[] {
  const paths: string[] = [];
  for (const pattern of [repositoryPath, rootMarkdown]) {
    for (const match of text.matchAll(pattern)) {
      const path = match[1]!.replace(/[.]+$/, '');
      paths.push(path + (match[2] ?? ''));
    }
  }
  return paths;
}

/**
 * The text of a TypeScript file's comments. Every comment is trivia before or after some node: collecting the
 * comments at each node's start and end finds them all (those before a closing `}` too), and never a string.
 */
export function commentsOf(source: string, fileName: string): string {
  const kind = fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const comments = new Map<number, string>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) comments.set(range.pos, source.slice(range.pos, range.end));
  };
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(source, node.pos));
    collect(ts.getTrailingCommentRanges(source, node.end));
    collect(ts.getLeadingCommentRanges(source, node.end));
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return [...comments.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, text]) => text)
    .join('\n');
}

/** Whether git ignores the path: something a command writes (`bench/results.json`, `dist/`), cited before it exists. */
function isIgnored(root: string, path: string): boolean {
  try {
    // A folder's rule (`dist/`) matches only a path that says it is a folder.
    const candidates = [relative(root, path), `${relative(root, path)}/`];
    const ignored = execFileSync('git', ['check-ignore', '--no-index', ...candidates], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return ignored.trim() !== '';
  } catch {
    return false; // exit status 1: none is ignored
  }
}

/** Checks one target (`path`, `path#anchor` or `#anchor`) relative to `baseDir` (both absolute), citing from `file`. */
function checkTarget(root: string, file: string, baseDir: string, target: string): string | null {
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath);
  const resolved = path ? join(baseDir, path) : join(root, file);
  if (!resolved.startsWith(root)) return 'points outside the repository';
  if (!existsSync(resolved)) return isIgnored(root, resolved) ? null : 'no such file or folder';
  if (anchor === undefined || anchor === '') return null;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return 'an anchor into something that is not Markdown';
  return headingSlugs(readFileSync(resolved, 'utf8')).has(anchor.toLowerCase()) ? null : `no heading #${anchor}`;
}

function filesUnder(root: string, folder: string, accept: (name: string) => boolean): string[] {
  const start = join(root, folder);
  if (!existsSync(start)) return [];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (accept(entry.name)) files.push(relative(root, path));
    }
  };
  walk(start);
  return files.sort();
}

/** The Markdown files whose links are checked: the README, every file of `docs/`, and `demo/README.md`. */
export function documentationFiles(root: string): string[] {
  return ['README.md', ...filesUnder(root, 'docs', (name) => name.endsWith('.md')), 'demo/README.md'].filter((file) =>
    existsSync(join(root, file)),
  );
}

/** The source files whose comments are checked: the TypeScript of `src/`, `demo/`, `bench/` and `test/`. */
export function sourceFiles(root: string): string[] {
  return ['src', 'demo', 'bench', 'test'].flatMap((folder) => filesUnder(root, folder, (name) => /\.tsx?$/.test(name)));
}

/**
 * Every reference of the documentation (relative links, `#anchors`, repository paths) and of the source files'
 * comments (repository paths, with their anchors) that points nowhere in the repository at `root`.
 */
export function brokenReferences(root: string, markdownFiles: string[], codeFiles: string[]): BrokenReference[] {
  const broken: BrokenReference[] = [];
  const check = (file: string, baseDir: string, target: string) => {
    const reason = checkTarget(root, file, baseDir, target);
    if (reason) broken.push({ file, target, reason });
  };
  for (const file of markdownFiles) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const link of markdownLinks(text)) check(file, dirname(join(root, file)), link);
    for (const path of repositoryPaths(text)) check(file, root, path);
  }
  for (const file of codeFiles) {
    const source = readFileSync(join(root, file), 'utf8');
    // Parsing is the slow part: only files that mention a path anywhere can cite one in a comment.
    if (!repositoryPaths(source).length) continue;
    for (const path of repositoryPaths(commentsOf(source, file))) check(file, root, path);
  }
  return broken;
}
