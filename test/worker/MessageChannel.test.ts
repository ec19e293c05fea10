import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { describeTableClient } from './describeTableClient';
import { connectFixtureControl, serveFixture } from './fixtures/tableFixture';

describeTableClient('a MessageChannel', async () => {
  const { port1, port2 } = new MessageChannel();
  serveFixture(port2, { create: (indexes) => new MemoryStorageTable(indexes, { name: 'readings' }) });
  const { control, close } = connectFixtureControl(port1);
  return {
    endpoint: port1,
    control,
    dispose: async () => {
      close();
      port1.close();
      port2.close();
    },
  };
});
