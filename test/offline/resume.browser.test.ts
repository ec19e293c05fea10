import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeResume } from './describeResume';

describeResume('IdbStorageTable (Chromium)', (scorer, dbName) => IdbStorageTable.open(scorer, { name: 'readings', dbName }));
