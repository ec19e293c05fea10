// The runner's side of `memory.bytesPerRecord`: a worker's used heap after a full garbage collection, asked of
// Chromium over CDP (HeapProfiler.collectGarbage, then Runtime.getHeapUsage on the worker's own target).
import type { CDPSession, Page } from 'playwright-core';

interface Attached {
  sessionId: string;
  targetInfo: { type: string; title: string; targetId: string };
}

/**
 * Attaches to every worker the page starts (from now on) and returns a function measuring one by name. Uses the
 * page session's child sessions (`Target.sendMessageToTarget`), as playwright's CDP sessions reach pages only.
 */
export async function watchWorkerHeaps(page: Page): Promise<(name: string) => Promise<number>> {
  const session: CDPSession = await page.context().newCDPSession(page);
  const workers = new Map<string, string>();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  session.on('Target.attachedToTarget', (event: Attached) => {
    if (event.targetInfo.type === 'worker') workers.set(event.targetInfo.title, event.sessionId);
  });
  session.on('Target.detachedFromTarget', (event: { sessionId: string }) => {
    for (const [name, sessionId] of workers) if (sessionId === event.sessionId) workers.delete(name);
  });
  session.on('Target.receivedMessageFromTarget', (event: { message: string }) => {
    const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id as number);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const send = (sessionId: string, method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) }).catch(reject);
    });
  return async (name) => {
    const sessionId = workers.get(name);
    if (!sessionId) throw new Error(`no worker named '${name}' is attached (workers: ${[...workers.keys()].join(', ')})`);
    // Twice: a collection can free what finalizers of the first released.
    await send(sessionId, 'HeapProfiler.collectGarbage');
    await send(sessionId, 'HeapProfiler.collectGarbage');
    const usage = (await send(sessionId, 'Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  };
}
