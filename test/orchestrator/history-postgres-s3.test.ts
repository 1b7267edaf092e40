import { postgresS3Config } from './helpers.js';
import { historySuite } from './history-suite.js';

historySuite('PostgreSQL + S3', postgresS3Config);
