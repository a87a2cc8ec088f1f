import type { Mapping } from '../../schemas/mapping';
import type { StageContext } from './context';
import { createRowMapper, requireTarget, type RawRow } from './map-row';
import type { AvroRecord, StageResult } from './result';

/** A login event record (schemas/avro/login-event-value.avsc); fields come from the login-history mapping. */
export type LoginEventRecord = AvroRecord & {
  /** LoginHistory Id: the event's identity (sinks insert idempotently on it). */
  readonly id: string;
  readonly userId: string;
  /** UTC epoch milliseconds. */
  readonly loginTime: number;
  /** 'Success' or the failure reason; null when absent. */
  readonly status: string | null;
};

/** LoginHistory Bulk row -> login event record. Pure; never throws for bad data (see StageResult). */
export type LoginEventStage = (row: RawRow, ctx: StageContext) => StageResult<LoginEventRecord>;

/** Builds the login event stage. Throws a FatalError if the mapping lacks required id, userId or loginTime. */
export function createLoginEventStage(mapping: Mapping): LoginEventStage {
  for (const t of ['id', 'userId', 'loginTime']) requireTarget(mapping, t, 'login-history');
  return createRowMapper(mapping, 'LoginHistory') as LoginEventStage;
}
