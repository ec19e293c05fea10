// Checks the messages that arrive over the shared table's BroadcastChannels. Any context of the origin can post
// there (another version of the app, an extension's script, a bug), so a node handles only what parses, and drops
// the rest without a word: a malformed message must neither throw in the worker nor wedge the election.
import { z } from 'zod';
import { BROADCAST_PROTOCOL_VERSION, type ChannelMessage, type InboxMessage, type RelayedMethod } from './broadcastProtocol';

// A record over every method, so that a method added to the session's API cannot be forgotten here (its relayed
// requests would be dropped as malformed, and the caller would wait forever).
const relayed: Record<RelayedMethod, true> = {
  load: true,
  resume: true,
  loaded: true,
  adjust: true,
  openRead: true,
  nextBatch: true,
  closeRead: true,
  getFirstRecord: true,
  invalidateRecords: true,
  invalidateKeys: true,
  refreshInvalid: true,
  cancel: true,
  stats: true,
  changeFeedStatus: true,
  subscribe: true,
  unsubscribe: true,
  close: true,
};
const relayedMethods = Object.keys(relayed) as [RelayedMethod, ...RelayedMethod[]];

const count = z.number().int().nonnegative();

const serializedValue = z.lazy(() =>
  z.union([serializedError, z.object({ type: z.literal('tablecache-web:value'), value: z.unknown().optional() })]),
);

const serializedError: z.ZodType = z.lazy(() =>
  z.object({
    type: z.literal('tablecache-web:error'),
    kind: z.enum(['registered', 'builtin', 'dom', 'value']),
    className: z.string(),
    name: z.string(),
    message: z.string(),
    stack: z.string().optional(),
    fields: z.record(z.string(), serializedValue),
    cause: serializedValue.optional(),
    value: z.unknown().optional(),
  }),
);

const envelope = { protocol: z.literal(BROADCAST_PROTOCOL_VERSION), from: z.string().min(1) };

const channelMessage = z.discriminatedUnion('kind', [
  z.object({ ...envelope, version: z.number().int(), kind: z.literal('hello') }),
  z.object({ ...envelope, version: z.number().int(), kind: z.literal('owner'), loaded: z.boolean() }),
  z.object({ ...envelope, version: z.number().int(), kind: z.literal('shutdown'), error: serializedError }),
]);

// Records and call values are passed on as they are: checking them is the table's job (specs are parsed there), and
// walking every record of every batch here would cost more than the message.
const records = z.custom<unknown[]>((value) => Array.isArray(value));

const updateMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('records'),
    subscriptionId: count,
    records,
    info: z.object({ from: z.enum(['storage', 'db', 'mixed']), refreshed: z.boolean(), stale: z.boolean() }).optional(),
  }),
  z.object({ type: z.literal('error'), subscriptionId: count, error: serializedError }),
  z.object({ type: z.literal('closed'), error: serializedError.optional() }),
  z.object({ type: z.literal('changeFeedStatus'), status: z.enum(['live', 'catching-up', 'offline', 'none']) }),
]);

const inboxMessage = z.discriminatedUnion('kind', [
  z.object({
    ...envelope,
    kind: z.literal('request'),
    requestId: count,
    connection: count,
    method: z.enum(relayedMethods),
    args: z.custom<unknown[]>((value) => Array.isArray(value)),
    progress: z.boolean(),
  }),
  z.object({ ...envelope, kind: z.literal('reply'), requestId: count, value: z.unknown().optional(), error: serializedError.optional() }),
  z.object({
    ...envelope,
    kind: z.literal('progress'),
    requestId: count,
    progress: z.object({ loaded: count, expired: count, total: count.optional() }),
  }),
  z.object({ ...envelope, kind: z.literal('update'), connection: count, message: updateMessage }),
]);

/** `data` as a message of the table's channel, or `undefined` when it is not one this protocol version sends. */
export function parseChannelMessage(data: unknown): ChannelMessage | undefined {
  return channelMessage.safeParse(data).success ? (data as ChannelMessage) : undefined;
}

/** `data` as a message of a node's inbox, or `undefined` when it is not one this protocol version sends. */
export function parseInboxMessage(data: unknown): InboxMessage | undefined {
  return inboxMessage.safeParse(data).success ? (data as InboxMessage) : undefined;
}
