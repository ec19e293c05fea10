import { testBackends } from '../server/postgres';
import { backend, backendProcess } from './demoApp';
import { describeLive } from './describeLive';

/**
 * The live suite of live.e2e.test.ts over two backend processes on one fresh PostgreSQL database: the page "mine"
 * reads and follows backend A (`startServer` in this process), "theirs" reads, follows and writes to backend B
 * (`demo/server/main.ts` in an OS process of its own, as `npm run server` runs it), and the tests write to B as
 * another service would. Each has its own connection pool and its own LISTEN, so what "mine" shows of a change
 * made through B came through the database (B's write, the change log's trigger and NOTIFY) and A's change feed.
 *
 * Postgres is found as the server suites find it (`testBackends`): without it the suite is left out with a loud
 * warning, or the run fails when `CI` is set.
 *
 * Chromium only (vite.config.ts leaves this file out of the other engines' e2e projects): what it adds to
 * live.e2e.test.ts happens on the server side, the same in every engine, while each engine costs 14–18 s of its own.
 * Measured on 2 busy cores, where Vitest runs the e2e files one at a time: 14 s in Chromium, 15 s in Firefox, 18 s in
 * WebKit (it passed in all three), so all three would add about 45 s to a run, more than the 40 s this variant was
 * allowed.
 */
const url = (await testBackends('live_e2e')).find((candidate) => candidate.name === 'postgres')?.url;

describeLive(
  'two backend processes on one PostgreSQL',
  url === undefined
    ? undefined
    : async () => {
        // One after the other: A creates and seeds the tables, B finds them.
        const a = await backend(20_000, { url });
        const b = await backendProcess(url).catch(async (error: unknown) => {
          await a.close();
          throw error;
        });
        return {
          mine: a.url,
          theirs: b.url,
          stopMine: () => a.close(),
          close: async () => void (await Promise.all([a.close(), b.close()])),
        };
      },
);
