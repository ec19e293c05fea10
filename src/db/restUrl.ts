import { InvalidSpecError } from '../core/errors';

/** A query parameter's value; arrays are sent comma-separated (`ids=1,2,3`). */
export type RestQueryValue = string | number | boolean | readonly (string | number)[];

/**
 * `baseUrl` + `path` + `?query`. The path is appended to the base URL's path
 * (one slash between them); the base URL's own query parameters are kept.
 *
 * @throws {InvalidSpecError} when a number in `query` is NaN.
 */
export function restUrl(baseUrl: URL, path: string, query: Readonly<Record<string, RestQueryValue | undefined>> = {}): URL {
  const url = new URL(baseUrl.href);
  const relative = path.replace(/^\/+/, '');
  if (relative !== '') url.pathname = `${url.pathname.replace(/\/+$/, '')}/${relative}`;
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const parts = Array.isArray(value) ? value : [value];
    for (const part of parts) {
      if (typeof part === 'number' && Number.isNaN(part)) {
        throw new InvalidSpecError(`Query parameter '${name}' is NaN.`, { path: ['query', name] });
      }
    }
    url.searchParams.append(name, parts.map(String).join(','));
  }
  return url;
}

/**
 * The base URL as an absolute URL: a relative one (e.g. `/api`) is resolved
 * against the page's or worker's location. A trailing slash is added so
 * that relative `next` links resolve below it.
 */
export function absoluteBaseUrl(baseUrl: string | URL): URL {
  const location = (globalThis as { location?: { href: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(baseUrl, location);
  } catch (cause) {
    throw new InvalidSpecError(
      `baseUrl '${String(baseUrl)}' is not an absolute URL${location ? '' : ' (there is no page location to resolve it against)'}.`,
      {
        path: ['baseUrl'],
        cause,
      },
    );
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}
