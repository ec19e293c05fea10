/**
 * The end line of the REST protocol's NDJSON responses. A server that
 * announces it with the response header `X-Ndjson-End: $end` ends every
 * complete NDJSON body with the line `{"$end":{"count":N}}`, N being the
 * number of records before it; a body without it was cut, even when the
 * cut fell on a line boundary.
 */
export const END_LINE_HEADER = 'X-Ndjson-End';
/** The value of {@link END_LINE_HEADER}: the key of the end line. */
export const END_LINE_KEY = '$end';

/** The end line for a body of `count` records, with its `\n`. */
export function endLine(count: number): string {
  return `${JSON.stringify({ [END_LINE_KEY]: { count } })}\n`;
}

/** The count of an end line; `null` when `line` is not one (a record), -1 when it starts like one (`{"$end"`) but has no valid count. */
export function endLineCount(line: string): number | null {
  if (!line.trimStart().startsWith(`{"${END_LINE_KEY}"`)) return null;
  try {
    const value = JSON.parse(line) as { [END_LINE_KEY]?: { count?: unknown } };
    const count = value[END_LINE_KEY]?.count;
    return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : -1;
  } catch {
    return -1;
  }
}
