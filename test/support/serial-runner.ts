import TestRunner from 'jest-runner';

/**
 * The integration tier's runner: jest's own, one suite at a time in jest's process, as `--runInBand`
 * ran the whole suite before. Its suites share one Kafka, one registry and one PostgreSQL, and some
 * stop, fault or restart what they share, so they never overlap. The unit tier keeps jest's runner
 * and runs on every core (`npm test`'s --maxWorkers); jest runs one project's runner after the
 * other's, so the unit suites never overlap an integration suite either.
 */
export default class SerialRunner extends TestRunner {
  override readonly isSerial = true;
}
