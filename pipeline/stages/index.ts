/** The pure transform stages: what the pipeline composes. No I/O, no client libraries. */
export type { StageContext } from './context';
export type { StageResult, AvroRecord, AvroValue } from './result';
export type { RawRow, RowMapper } from './map-row';
export { createRowMapper } from './map-row';
export { createUserStage, type UserStage, type UserRecord } from './user';
export { createLoginEventStage, type LoginEventStage, type LoginEventRecord } from './login-event';
export {
  createLatestLoginAssigner,
  createLatestLoginMerger,
  laterSuccessfulLogin,
  type LatestLoginMerger,
} from './latest-login';
export { convertScalar, type ScalarType } from './convert';
