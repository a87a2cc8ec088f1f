/**
 * The REST query resource: GET /vXX.X/query?q=SOQL, then GET /vXX.X/query/{locator}-{offset}
 * for the following pages (the nextRecordsUrl of each page until done is true). Records are
 * JSON: an `attributes` object, each field as its JSON type, a child-to-parent path nested as an
 * object (null when the reference is empty). Datetimes are written as the REST API writes them
 * (2026-01-02T03:04:05.000+0000). The SOQL subset and its refusals are the Bulk ones
 * (soql-compile.ts), which the simulator's callers never exceed.
 */
import { SfError } from './errors';
import { KeyPrefix, makeId } from './ids';
import { ResultSet } from './resultset';
import { Schema } from './schema';
import { compileBulkQuery, QueryPlan, resolvePath } from './soql-compile';
import { Store } from './store';
import { DataSource, Row, Value } from './table';

export interface QueryContext {
  store: Store;
  schema: Schema;
  pageSize: number;
}

interface Cursor {
  plan: QueryPlan;
  result: ResultSet;
  data: DataSource;
  version: number;
  pageSize: number;
}

export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();
  private counter = 0;

  constructor(private readonly ctx: QueryContext) {}

  /** `rest`: the path after /query; `options`: the Sforce-Query-Options header. */
  async handle(
    version: number,
    rest: string[],
    q: string | null,
    options: string | undefined,
  ): Promise<Record<string, unknown>> {
    if (rest.length === 0) {
      if (q === null || q.trim() === '')
        throw new SfError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      const plan = compileBulkQuery(q, this.ctx.schema, version);
      const data = this.ctx.store.snapshot();
      const result = new ResultSet(plan, data);
      await result.prepare();
      const locator = makeId(KeyPrefix.QueryLocator, this.counter++).slice(0, 15);
      const cursor = { plan, result, data, version, pageSize: batchSize(options, this.ctx.pageSize) };
      this.cursors.set(locator, cursor);
      return this.page(locator, cursor, 0);
    }
    const m = rest.length === 1 ? /^([A-Za-z0-9]{15})-(\d+)$/.exec(rest[0]) : null;
    const cursor = m ? this.cursors.get(m[1]) : undefined;
    if (!m || !cursor || Number(m[2]) > cursor.result.count) {
      throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    return this.page(m[1], cursor, Number(m[2]));
  }

  private page(locator: string, c: Cursor, offset: number): Record<string, unknown> {
    const records: Record<string, unknown>[] = [];
    for (const row of c.result.rows(offset, c.pageSize)) records.push(this.record(c, row));
    const next = offset + records.length;
    const done = next >= c.result.count;
    if (done) this.cursors.delete(locator);
    return {
      totalSize: c.result.count,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${c.version.toFixed(1)}/query/${locator}-${next}` }),
      records,
    };
  }

  private record(c: Cursor, row: Row): Record<string, unknown> {
    const objectName = c.plan.object.name;
    const out: Record<string, unknown> = { attributes: attributes(objectName, row.get('Id'), c.version) };
    for (const col of c.plan.columns) {
      const parts = col.name.split('.');
      let target: Record<string, unknown> | null = out;
      let object = objectName;
      for (let k = 0; k < parts.length - 1 && target !== null; k++) {
        const rel = parts[k];
        if (!(rel in target)) {
          // the reference field of this hop (Profile → ProfileId): null when it is empty
          const refField = this.ctx.schema.relationship(this.ctx.schema.object(object, c.version)!, rel, c.version)!;
          const prefix = [...parts.slice(0, k), refField.name].join('.');
          const refId = resolvePath(this.ctx.schema, objectName, c.version, prefix).get(row, c.data);
          target[rel] = refId === null ? null : { attributes: attributes(refField.referenceTo[0], refId, c.version) };
        }
        object = this.ctx.schema.relationship(this.ctx.schema.object(object, c.version)!, rel, c.version)!
          .referenceTo[0];
        target = target[rel] as Record<string, unknown> | null;
      }
      if (target !== null) target[parts[parts.length - 1]] = jsonValue(col.field.type, col.get(row, c.data));
    }
    return out;
  }
}

function attributes(type: string, id: Value, version: number): Record<string, string> {
  return { type, url: `/services/data/v${version.toFixed(1)}/sobjects/${type}/${String(id)}` };
}

/** A value as REST JSON carries it: datetimes with a +0000 zone, the rest as their JSON type. */
function jsonValue(type: string, v: Value): Value {
  if (type === 'datetime' && typeof v === 'string') return v.replace(/Z$/, '+0000');
  return v;
}

function batchSize(header: string | undefined, dflt: number): number {
  const m = header ? /batchSize\s*=\s*(\d+)/i.exec(header) : null;
  if (!m) return dflt;
  const n = Number(m[1]);
  if (n < 200 || n > 2000) throw new SfError(400, 'INVALID_BATCH_SIZE', `batchSize must be from 200 to 2000, got ${n}`);
  return n;
}
