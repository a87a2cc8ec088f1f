import type { Mapping } from '../../schemas/mapping';
import type { StageContext } from './context';
import { createRowMapper, requireTarget, type RawRow } from './map-row';
import type { AvroRecord, StageResult } from './result';

/** A Neurons user record (schemas/avro/user-value.avsc); its fields come from the user mapping. */
export type UserRecord = AvroRecord & { readonly id: string };

/**
 * User Bulk row -> Neurons user record. Pure; never throws for bad data (see StageResult).
 * The device fields (source_object LoginHistory) are null here: mergeLatestLogin fills them.
 */
export type UserStage = (row: RawRow, ctx: StageContext) => StageResult<UserRecord>;

/** Builds the user stage from the user mapping. Throws a FatalError if the mapping has no required `id`. */
export function createUserStage(mapping: Mapping): UserStage {
  requireTarget(mapping, 'id', 'user');
  return createRowMapper(mapping, 'User') as UserStage;
}
