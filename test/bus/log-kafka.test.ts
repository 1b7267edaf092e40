/**
 * The EventLog contract on Apache Kafka. No broker runs in the normal suite: set
 * SLUICE_TEST_KAFKA=host:9092[,host:9092] to run it against one; otherwise it is skipped.
 * The suite cannot start a broker itself: Debian packages Kafka clients (kcat, librdkafka,
 * python3-kafka) and ZooKeeper, but no Kafka-protocol broker (no Kafka, no Redpanda).
 */
import { test } from 'node:test';
import { openEventLog } from '../../src/bus/log/index.js';
import { busSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observe/index.js';
import { logContract } from './log-contract.js';

const brokers = process.env.SLUICE_TEST_KAFKA;

if (brokers) {
  logContract({
    name: 'kafka',
    open: () =>
      openEventLog(busSchema.parse({ log: `kafka://${brokers}` }), {
        dataDir: '/nonexistent',
        log: silentLogger,
      }),
    exclusive: false,
  });
} else {
  test('EventLog contract: kafka', {
    skip: 'no Kafka broker: set SLUICE_TEST_KAFKA=host:9092 to run against one (Debian packages no Kafka-protocol broker to start here)',
  }, () => {});
}
