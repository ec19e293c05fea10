import { InvalidSpecError } from '../core/errors';
import type { Indexes, IndexSpec } from '../core/types';
import { parseSpec } from '../indexes/schemas';

type Path = readonly (string | number)[];

/**
 * Parses an untrusted spec (sent by the UI thread) with the Indexes'
 * `specSchema` when they have one, then checks that it names one of their
 * indexes. `path` prefixes the offending field's path in the error, for a
 * spec inside a list.
 *
 * @throws {InvalidSpecError} naming the offending field.
 */
export function parseIndexSpec<R, PK, S extends IndexSpec, D>(
  indexes: Indexes<R, PK, S, D>,
  input: unknown,
  context: string,
  path: Path = [],
): S {
  let spec: S;
  if (indexes.specSchema) {
    try {
      spec = parseSpec(indexes.specSchema, input, context);
    } catch (error) {
      if (!(error instanceof InvalidSpecError) || path.length === 0) throw error;
      throw new InvalidSpecError(error.message, { path: [...path, ...error.path], cause: error.cause });
    }
  } else {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new InvalidSpecError(`${context}: a spec must be an object with an indexName.`, { path });
    }
    spec = input as S;
  }
  const { indexName } = spec as { indexName?: unknown };
  if (typeof indexName !== 'string' || !indexes.indexNames.includes(indexName)) {
    throw new InvalidSpecError(
      `${context}: there is no index ${typeof indexName === 'string' ? `'${indexName}'` : String(indexName)}; the indexes are ${indexes.indexNames.map((name) => `'${name}'`).join(', ')}.`,
      { path: [...path, 'indexName'] },
    );
  }
  return spec;
}

/**
 * Parses an untrusted list of specs (whether it may be empty is the table's
 * to judge), naming the offending element in the error's path.
 *
 * @throws {InvalidSpecError} when `input` is not an array or an element is invalid.
 */
export function parseIndexSpecList<R, PK, S extends IndexSpec, D>(
  indexes: Indexes<R, PK, S, D>,
  input: unknown,
  context: string,
  listName: string,
): S[] {
  if (!Array.isArray(input)) throw new InvalidSpecError(`${context}: ${listName} must be an array of specs.`, { path: [listName] });
  return input.map((element, i) => parseIndexSpec(indexes, element, `${context}: ${listName}[${i}]`, [listName, i]));
}
