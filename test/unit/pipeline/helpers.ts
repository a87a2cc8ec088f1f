import { loadCatalog } from '../../../schemas/catalog';
import type { StageContext } from '../../../pipeline/stages/context';

/** The shipped catalog (schemas + mappings), loaded once per test file. */
export const catalog = loadCatalog();

export const ctx: StageContext = Object.freeze({
  instanceUrl: 'https://acme.my.salesforce.com',
  orgId: '00DHn0000001AbCMAU',
  connectorName: 'acme-salesforce',
  runId: 'run-1',
  extractedAt: 1714636800000,
});

/** Deep-freezes a row so a stage that writes to its input fails the test. */
export const frozen = <T extends object>(o: T): T => Object.freeze({ ...o });
