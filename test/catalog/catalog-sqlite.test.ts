import { catalogContract } from './contract.js';
import { localBackends } from './fixtures.js';

catalogContract('SQLite + local directory', localBackends);
