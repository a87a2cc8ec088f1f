/**
 * What a stage knows about the run besides the row. Built once per run by the pipeline; stages
 * only read it. Mapping rows with source_object "Connector" name one of these properties.
 */
export interface StageContext {
  /** The org's instance URL from the OAuth token response, e.g. https://acme.my.salesforce.com. */
  readonly instanceUrl: string;
  /** 18-character Salesforce organization Id. */
  readonly orgId: string;
  readonly connectorName: string;
  readonly runId: string;
  /** When the run extracted the rows (UTC, epoch milliseconds). */
  readonly extractedAt: number;
}

/** The StageContext properties a mapping may name, with the JS type each holds. */
export const CONTEXT_FIELDS: Readonly<Record<keyof StageContext, 'string' | 'number'>> = {
  instanceUrl: 'string',
  orgId: 'string',
  connectorName: 'string',
  runId: 'string',
  extractedAt: 'number',
};
