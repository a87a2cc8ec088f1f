/**
 * The run-state record (schemas/avro/run-state-value.avsc) as TypeScript, for the code that
 * builds it: the pipeline writes one per run to the connector-state topic, keyed by connector
 * name, and reads the latest one back at start-up for the LoginHistory watermark.
 * Times are UTC epoch milliseconds. A unit test keeps this interface and the schema in step.
 */
export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunStateRecord {
  connectorName: string;
  runId: string;
  /** succeeded only after a complete, verified extraction; a failed run moves no watermark. */
  status: RunStatus;
  startedAt: number;
  /** null while running. */
  endedAt: number | null;
  usersExtracted: number;
  usersPublished: number;
  usersUnchanged: number;
  usersTombstoned: number;
  loginEventsPublished: number;
  deadLettered: number;
  /** Latest LoginTime fully extracted; null before the first complete run. */
  loginHistoryWatermark: number | null;
  /** From Sforce-Limit-Info (api-usage=USED/MAX); null when no response carried it. */
  apiRequestsUsed: number | null;
  apiRequestsMax: number | null;
  /** Why the run failed, or why deletions were refused; null when there is nothing to say. */
  message: string | null;
}
