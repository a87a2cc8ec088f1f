/**
 * The run-state record (schemas/avro/run-state-value.avsc) as the pipeline handles it.
 * Times are epoch milliseconds (UTC).
 */
export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunState {
  connectorName: string;
  runId: string;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  usersExtracted: number;
  usersPublished: number;
  usersUnchanged: number;
  usersTombstoned: number;
  loginEventsPublished: number;
  deadLettered: number;
  loginHistoryWatermark: number | null;
  /** Ids of the events in the overlap window before the watermark (see LoginCursor). */
  loginHistoryRecentIds: string[];
  /** The same Ids packed (pipeline/login-ids.ts); written instead of the list. */
  loginHistoryRecentIdsPacked: Buffer | null;
  apiRequestsUsed: number | null;
  apiRequestsMax: number | null;
  message: string | null;
  /** Scheduled runs: the slot (epoch ms) and which attempt at it (1, then retries); null when started by hand. */
  scheduledFor: number | null;
  attempt: number | null;
  /** Who holds the run lock (host name and process id), and when it last said it is alive. */
  host: string | null;
  pid: number | null;
  heartbeatAt: number | null;
  /** The Salesforce org the state belongs to (null: written before org binding, or not known yet). */
  orgId: string | null;
  /** The fields the run read, as Object.Field (null: written before this was recorded). */
  sourceFields: string[] | null;
  /** Incremental declared streams: name → watermark (epoch ms); null before any. */
  streamWatermarks: Record<string, number> | null;
  /** How the users were last read (absent or null: never recorded; the next run reads them in full). */
  usersRead?: UsersReadState | null;
}

/** What the next run needs to read only the users changed since this one (pipeline/sync.ts). */
export interface UsersReadState {
  /** The highest User.SystemModstamp read (epoch ms): Salesforce's value, never our clock. */
  watermark: number;
  /** When the last full read of every selected user started (epoch ms, our clock: it only schedules). */
  fullReadAt: number;
  /** A digest of what makes a users read comparable (fields, mapping, status selection, filters):
   *  another one and the next read is a full one. */
  shape: number;
}

/**
 * Keys in the compacted state topic. The committed state of a connector is keyed by its name
 * (the next run resumes from it); its latest run, failed or not, and its run lock each have a
 * key of their own, so neither can compact the committed state away. The LoginHistory progress
 * (`#logins`) has its own key too: it is saved once a run has published its login events and
 * the users carrying their devices, so a run refused later (the deletion guard) does not make
 * the next one read and publish those events again.
 */
export const stateKeys = (connector: string) => ({
  committed: connector,
  lastRun: `${connector}#last-run`,
  lock: `${connector}#lock`,
  logins: `${connector}#logins`,
});

export function newRunState(connectorName: string, runId: string, startedAt: number): RunState {
  return {
    connectorName,
    runId,
    status: 'running',
    startedAt,
    endedAt: null,
    scheduledFor: null,
    attempt: null,
    usersExtracted: 0,
    usersPublished: 0,
    usersUnchanged: 0,
    usersTombstoned: 0,
    loginEventsPublished: 0,
    deadLettered: 0,
    loginHistoryWatermark: null,
    loginHistoryRecentIds: [],
    loginHistoryRecentIdsPacked: null,
    apiRequestsUsed: null,
    apiRequestsMax: null,
    message: null,
    host: null,
    pid: null,
    heartbeatAt: null,
    orgId: null,
    sourceFields: null,
    streamWatermarks: null,
  };
}
