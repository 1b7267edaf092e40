import { historySuite } from './history-suite.js';

historySuite('SQLite + local storage', async () => ({ sluiceYaml: '', close: async () => undefined }));
