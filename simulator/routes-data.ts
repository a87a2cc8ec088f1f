/**
 * REST resources under /services/data other than query jobs: the version list, the resource
 * list of a version, limits, describeGlobal, sObject basic info and describe.
 */
import { describeGlobal, describeObject, objectBasicInfo } from './describe';
import { notFound } from './errors';
import { Schema } from './schema';

export const MIN_VERSION = 31;
export const MAX_VERSION = 62;

/** "v62.0" → 62; null when not a version this org serves (up to `max`). */
export function parseVersion(segment: string, max = MAX_VERSION): number | null {
  const m = /^v(\d+)\.0$/.exec(segment);
  if (!m) return null;
  const v = Number(m[1]);
  return v >= MIN_VERSION && v <= max ? v : null;
}

/** Release name of an API version: 31.0 is Summer '14, three releases a year. */
function releaseLabel(v: number): string {
  const k = v - MIN_VERSION;
  const season = ['Summer', 'Winter', 'Spring'][k % 3];
  return `${season} '${14 + Math.floor((k + 2) / 3)}`;
}

export function versions(max = MAX_VERSION): { label: string; url: string; version: string }[] {
  const out = [];
  for (let v = MIN_VERSION; v <= max; v++) {
    out.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return out;
}

export function resources(version: number): Record<string, string> {
  const base = `/services/data/v${version}.0`;
  return { limits: `${base}/limits`, sobjects: `${base}/sobjects` };
}

export function limits(
  apiUsed: number,
  apiMax: number,
  jobsCreated: number,
): Record<string, { Max: number; Remaining: number }> {
  return {
    DailyApiRequests: { Max: apiMax, Remaining: Math.max(0, apiMax - apiUsed) },
    DailyBulkV2QueryJobs: { Max: 10000, Remaining: Math.max(0, 10000 - jobsCreated) },
    DailyBulkV2QueryFileStorageMB: { Max: 976562, Remaining: 976562 },
    DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
    ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
  };
}

/** GET /sobjects, /sobjects/{name}, /sobjects/{name}/describe. */
export function sobjects(schema: Schema, version: number, rest: string[]): Record<string, unknown> {
  if (rest.length === 0) return describeGlobal(schema, version);
  const obj = schema.object(rest[0], version);
  if (!obj) throw notFound();
  if (rest.length === 1) return objectBasicInfo(obj, version);
  if (rest.length === 2 && rest[1] === 'describe') return describeObject(schema, obj, version);
  throw notFound();
}
