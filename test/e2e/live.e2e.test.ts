import { backend } from './demoApp';
import { describeLive } from './describeLive';

// Both users on one backend over PGlite; livePostgres.e2e.test.ts runs the same suite over two backend processes on one PostgreSQL.
describeLive('one backend on PGlite', async () => {
  const api = await backend();
  return { mine: api.url, theirs: api.url, stopMine: () => api.close(), close: () => api.close() };
});
