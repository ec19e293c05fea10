import { describeCachedTable } from '../core/describeCachedTable';
import { browserTables } from './fixtures/browserTables';

const { open } = browserTables('tablecache-cached', { name: 'readings', readBatchSize: 16, writeBatchSize: 16, recordsPerPage: 8 });

describeCachedTable('IdbStorageTable (real browser)', open, { randomizedOperations: 60 });
