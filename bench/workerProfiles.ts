// `--profile PATH`'s workers: a CPU profile of every worker the page starts, written beside the page's profile as
// PATH.<worker>.cpuprofile (workers that end before the run does are left out), and one per `console.profile(title)`
// … `console.profileEnd()` a worker runs (e.g. around one figure's timed part), as PATH.<title>.cpuprofile.
import { writeFileSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';

interface Attached {
  sessionId: string;
  targetInfo: { type: string; title: string; url: string };
}

/** Starts profiling every worker the page starts from now on; `stop` writes their profiles and resolves with the paths. */
export async function profileWorkers(page: Page, path: string): Promise<{ stop: () => Promise<string[]> }> {
  const session: CDPSession = await page.context().newCDPSession(page);
  const workers = new Map<string, string>();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const send = (sessionId: string, method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  session.on('Target.attachedToTarget', (event: Attached) => {
    if (event.targetInfo.type !== 'worker') return;
    const name = `${event.targetInfo.title || event.targetInfo.url.split('/').pop() || 'worker'}-${workers.size}`;
    workers.set(event.sessionId, name.replace(/[^\w.-]+/g, '_'));
    void (async () => {
      await send(event.sessionId, 'Profiler.enable');
      await send(event.sessionId, 'Profiler.setSamplingInterval', { interval: 500 });
      await send(event.sessionId, 'Profiler.start');
    })().catch(() => undefined);
  });
  session.on('Target.detachedFromTarget', (event: { sessionId: string }) => workers.delete(event.sessionId));
  let consoleProfiles = 0;
  session.on('Target.receivedMessageFromTarget', (event: { message: string }) => {
    const message = JSON.parse(event.message) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: { title?: string; profile?: unknown };
    };
    if (message.method === 'Profiler.consoleProfileFinished' && message.params) {
      const file = `${path}.${(message.params.title ?? 'console').replace(/[^\w.-]+/g, '_')}-${consoleProfiles++}.cpuprofile`;
      writeFileSync(file, JSON.stringify(message.params.profile));
      console.log(`CPU profile of a worker's console.profile written to ${file}.`);
      return;
    }
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id as number);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    async stop() {
      const written: string[] = [];
      for (const [sessionId, name] of workers) {
        const { profile } = (await send(sessionId, 'Profiler.stop')) as { profile: unknown };
        const file = `${path}.${name}.cpuprofile`;
        writeFileSync(file, JSON.stringify(profile));
        written.push(file);
      }
      return written;
    },
  };
}
