import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';

/** One fenced TypeScript block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  doc: string;
  /** The line of the opening fence (1-based). */
  line: number;
  /** `ts` or `tsx`. */
  lang: 'ts' | 'tsx';
  /** The file name the block gives itself on its first line (`// table.worker.ts — …`), else `block<line>.<lang>`. */
  fileName: string;
  code: string;
}

/** The `ts` and `tsx` blocks of a Markdown text. */
export function codeBlocks(doc: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|tsx)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const lang = open[1] as 'ts' | 'tsx';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const named = /^\/\/ ([\w.-]+\.tsx?)(?:\s|$)/.exec(body[0] ?? '')?.[1];
    blocks.push({ doc, line: start + 1, lang, fileName: named ?? `block${start + 1}.${lang}`, code: body.join('\n') });
  }
  return blocks;
}

/**
 * What the docs' blocks may use without declaring it: the app's own parts that a snippet leaves out (its record
 * type, the range functions it passes, where it renders). Everything else a block uses it imports or declares.
 */
export const docsGlobals = `
interface Reading { id: number; sensor: string; ts: number; value: number; note: string | null }
declare const reading: import('zod').ZodType<Reading>;
declare const dbRecordsSpecForRange: (ge: number, lt: number) => import('tablecache-web').RestRecordsSpec;
declare const dbAccess: import('tablecache-web').DbAccess<Reading, import('tablecache-web').RestRecordsSpec>;
declare const indexes: import('tablecache-web').RangeIndexes<Reading, number, import('tablecache-web').RestRecordsSpec, 'ts'>;
declare const table: import('tablecache-web').CachedTable<any, any, any, any>;
declare const readings: import('tablecache-web').CachedTableClient<Reading, import('tablecache-web').RangeSpec<'ts'>>;
declare const initialSpec: import('tablecache-web').RangeSpec<'ts'>;
declare const spec: import('tablecache-web').RangeSpec<'ts'>;
declare const from: number;
declare const to: number;
declare const savedCursor: string | null;
declare function token(): Promise<string>;
declare function done(reading: Reading): boolean;
declare function render(records: readonly Reading[], from?: string): void;
declare function showError(error: Error): void;
declare function showLive(status: string): void;
declare function markEverythingStale(): void;
declare function refetch(keys: readonly number[]): Promise<void>;
declare function save(cursor: string): void;
`;

/**
 * Type-checks every block with the project's compiler options, each Markdown file's blocks as the files of one
 * folder (so that `./reading` in one block imports the block named `reading.ts`), `tablecache-web` resolving to
 * `src/` as in the project. Returns the diagnostics, formatted with the doc and line of their block.
 */
export function typeCheck(root: string, blocks: readonly CodeBlock[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  )!;
  // Virtual files inside the repository, so that the package's self-reference resolves `tablecache-web`.
  const folder = (doc: string) => join(root, '.docs-blocks', doc.replace(/[/.]/g, '_'));
  const virtual = new Map<string, { block: CodeBlock | null; text: string }>();
  virtual.set(join(root, '.docs-blocks', 'docsGlobals.d.ts'), { block: null, text: docsGlobals });
  for (const block of blocks) {
    const path = join(folder(block.doc), block.fileName);
    if (virtual.has(path)) throw new Error(`${block.doc}:${block.line}: a second block named ${block.fileName}`);
    // A snippet without imports is still a module of its own (its top-level await, its names).
    const text = /^\s*(import|export)\s/m.test(block.code) ? block.code : `${block.code}\nexport {};`;
    virtual.set(path, { block, text });
  }
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const directoryExists = host.directoryExists?.bind(host);
  host.readFile = (path) => virtual.get(path)?.text ?? readFile(path);
  host.fileExists = (path) => virtual.has(path) || fileExists(path);
  host.directoryExists = (path) => path.startsWith(join(root, '.docs-blocks')) || (directoryExists ? directoryExists(path) : true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (path, language, onError, shouldCreate) => {
    const file = virtual.get(path);
    return file ? ts.createSourceFile(path, file.text, language, true) : getSourceFile(path, language, onError, shouldCreate);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options: { ...config.options, noEmit: true }, host });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file === undefined || virtual.has(diagnostic.file.fileName))
    .map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const block = diagnostic.file ? virtual.get(diagnostic.file.fileName)?.block : undefined;
      if (!block || !diagnostic.file || diagnostic.start === undefined) return message;
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      return `${block.doc}:${block.line + 1 + line} (${basename(block.fileName)}): ${message}`;
    });
}

/** The blocks of the given Markdown files (relative to `root`). */
export function blocksOf(root: string, docs: readonly string[]): CodeBlock[] {
  return docs.flatMap((doc) => codeBlocks(doc, readFileSync(join(root, doc), 'utf8')));
}
