import { triggerSuite } from './trigger-suite.js';

triggerSuite('SQLite + local storage', async () => ({ sluiceYaml: '', close: async () => undefined }));
