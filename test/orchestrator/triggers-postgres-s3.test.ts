import { postgresS3Config } from './helpers.js';
import { triggerSuite } from './trigger-suite.js';

triggerSuite('PostgreSQL + S3', postgresS3Config);
