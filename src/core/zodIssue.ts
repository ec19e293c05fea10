import type { z } from 'zod';

/** Where and why a value failed a zod schema, from the first issue: for errors that name the offending field. */
export interface FirstIssue {
  /** The path of the offending field (symbols as strings); empty for the value itself. */
  readonly path: (string | number)[];
  /** `" at 'a.b'"`, or `''` for the value itself: to put in a message. */
  readonly at: string;
  readonly message: string | undefined;
}

export function firstIssue(error: z.ZodError): FirstIssue {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map((part) => (typeof part === 'symbol' ? String(part) : part));
  return { path, at: path.length ? ` at '${path.join('.')}'` : '', message: issue?.message };
}
