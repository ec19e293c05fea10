import { z } from 'zod';

import type { ChangeOp } from '../core/changeFeed';

export type { ChangeOp } from '../core/changeFeed';

/** One line of a change feed, parsed (see docs/rest-protocol.md#the-change-feed-protocol). */
export type ChangeFeedLine<K> =
  { kind: 'change'; cursor: string; key: K; op: ChangeOp } | { kind: 'live' | 'reset' | 'heartbeat'; cursor: string };

const cursor = z.string().regex(/^\d{1,20}$/, 'expected a cursor: a string of digits');
const control = z.strictObject({ cursor });
const lineSchema = z.union([
  z.object({ cursor, key: z.unknown(), op: z.enum(['upsert', 'delete']) }),
  z.strictObject({ $live: control }),
  z.strictObject({ $reset: control }),
  z.strictObject({ $heartbeat: control }),
]);

/**
 * Parses one line of a change feed; `keySchema` checks (and may
 * transform) the key. Returns the line, or the reason it is not one.
 */
export function parseChangeFeedLine<K>(text: string, keySchema: z.ZodType<K>): ChangeFeedLine<K> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return `not JSON: ${(cause as Error).message}`;
  }
  const result = lineSchema.safeParse(value);
  if (!result.success) return `not a change feed line: ${result.error.issues[0]?.message ?? 'unexpected shape'}`;
  const line = result.data;
  if ('$live' in line) return { kind: 'live', cursor: line.$live.cursor };
  if ('$reset' in line) return { kind: 'reset', cursor: line.$reset.cursor };
  if ('$heartbeat' in line) return { kind: 'heartbeat', cursor: line.$heartbeat.cursor };
  const key = keySchema.safeParse(line.key);
  if (!key.success) return `its key is invalid: ${key.error.issues[0]?.message ?? 'does not match keySchema'}`;
  return { kind: 'change', cursor: line.cursor, key: key.data, op: line.op };
}
