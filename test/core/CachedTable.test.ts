import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { describeCachedTable } from './describeCachedTable';

describeCachedTable('MemoryStorageTable', async (scorer) => new MemoryStorageTable(scorer as never));
