import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeResume } from './describeResume';

describeResume('IdbStorageTable (real browser)', (scorer, dbName) => IdbStorageTable.open(scorer, { name: 'readings', dbName }));
