/** The Salesforce extractor's public surface. */
export { createExtractor } from './extract';
export type {
  ConnectInfo,
  ExtractionResult,
  ExtractorDeps,
  LoginsResult,
  PlannedReads,
  Prestarted,
  SalesforceExtractor,
  StreamRequest,
  StreamResult,
  UserReads,
  UsersResult,
} from './extract';
export type { Extraction } from './row-stream';
export type { Row } from './csv-page';
export type { LoginCursor } from './logins';
export type { JobReport } from './integrity';
export type { ApiUsage } from './budget';
export { parseExtractorConfig, USER_STATUSES } from './config';
export type { AuthOptions, ExtractorConfig, ExtractorOptions, UserStatus } from './config';
export { DEFAULT_LOGIN_FIELDS, DEFAULT_USER_FIELDS, FROZEN_KEY, PASSWORD_LOCKED_KEY } from './fields';
