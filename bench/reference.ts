/**
 * The reference points of the pipeline benchmark, measured on the same servers in the same run:
 * Kafka's own ProducerPerformance, PostgreSQL's COPY, and (in roles.ts) a plain read of the
 * simulator's CSV pages.
 */
import * as path from 'node:path';
import type { ClientBase } from 'pg';
import { copyFrom } from '../sinks/postgres/copy';
import { CACHE_DIR, VERSIONS } from '../devstack/env';
import { findJava } from '../devstack/java';
import { runChild } from './support';

export interface ProducerPerformanceResult {
  records: number;
  recordsPerSecond: number;
  seconds: number;
}

/**
 * org.apache.kafka.tools.ProducerPerformance from the broker's own jars, with the connector's
 * producer settings (acks=all, idempotence, the same compression and linger).
 */
export async function producerPerformance(
  brokers: string,
  topic: string,
  count: number,
  recordBytes: number,
  compression: string,
  lingerMs: number,
): Promise<ProducerPerformanceResult> {
  const java = findJava(17, 'KAFKA_JAVA_HOME');
  const t0 = Date.now();
  const out = await runChild(java, [
    '-Xmx512m',
    '-cp',
    path.join(CACHE_DIR, `kafka-${VERSIONS.kafka}`, 'libs', '*'),
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(count),
    '--record-size',
    String(recordBytes),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${brokers}`,
    'acks=all',
    'enable.idempotence=true',
    `compression.type=${compression}`,
    `linger.ms=${lingerMs}`,
  ]);
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.trim().split('\n').pop() ?? '');
  if (!m) throw new Error(`could not read ProducerPerformance's result:\n${out.slice(-500)}`);
  return { records: Number(m[1]), recordsPerSecond: Number(m[2]), seconds: (Date.now() - t0) / 1000 };
}

/**
 * COPY of exactly the rows a sink table holds: they are copied out to memory first (not timed),
 * then COPY … FROM STDIN into a new table with the same columns and no index (timed). This is
 * PostgreSQL's raw bulk-load speed for these rows, the ceiling the sink is compared with.
 */
export async function copyReference(
  client: ClientBase,
  source: string,
  target: string,
  opts: { primaryKey?: boolean; format?: 'text' | 'binary' } = {},
): Promise<{ rows: number; seconds: number; bytes: number }> {
  await client.query(`CREATE TABLE ${target} (LIKE ${source})`);
  // `primaryKey`: the target has the id primary key during the COPY (what a bulk load keeps).
  if (opts.primaryKey) await client.query(`ALTER TABLE ${target} ADD PRIMARY KEY (id)`);
  // `format`: COPY's text form (what the sink sends) or its binary one (each value in its type's
  // send/recv form: no text to parse).
  const format = opts.format === 'binary' ? ' (FORMAT binary)' : '';
  const chunks = await copyTo(client, `COPY ${source} TO STDOUT${format}`);
  const t0 = process.hrtime.bigint();
  const rows = await copyFrom(client, `COPY ${target} FROM STDIN${format}`, chunks);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rows, seconds, bytes: chunks.reduce((n, c) => n + c.length, 0) };
}

/**
 * COPY … TO STDOUT into memory, with a minimal node-postgres submittable (the counterpart of
 * copyFrom). The server sends a message per row; they are joined into 1 MiB chunks, so the
 * timed COPY FROM is not slowed down by a million tiny writes.
 */
function copyTo(client: ClientBase, sql: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (pendingBytes > 0) chunks.push(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    };
    let failed: unknown = null;
    const query = {
      text: sql,
      submit: (connection: { query(text: string): void }) => connection.query(sql),
      handleCopyData: (msg: { chunk: Buffer }) => {
        pending.push(Buffer.from(msg.chunk));
        pendingBytes += msg.chunk.length;
        if (pendingBytes >= 1 << 20) flush();
      },
      handleCommandComplete: () => undefined,
      handleError: (err: unknown) => {
        failed = err;
        reject(err);
      },
      handleReadyForQuery: () => {
        flush();
        if (!failed) resolve(chunks);
      },
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleEmptyQuery: () => undefined,
      handlePortalSuspended: () => undefined,
      handleCopyInResponse: () => undefined,
    };
    (client as unknown as { query(q: unknown): void }).query(query);
  });
}

/**
 * PostgreSQL's own upsert of the same rows, the way the sink writes (staging table, then one
 * INSERT … SELECT … ON CONFLICT by id into an indexed table), with the rows already in COPY text
 * and no type conversion: the ceiling of what upsert semantics cost in this database. Timed:
 * COPY into the staging table plus the INSERT, in one transaction.
 */
export async function upsertReference(
  client: ClientBase,
  source: string,
  target: string,
  mode: 'upsert' | 'insert',
): Promise<{ rows: number; seconds: number }> {
  await client.query(`CREATE TABLE ${target} (LIKE ${source} INCLUDING ALL)`);
  const chunks = await copyTo(client, `COPY ${source} TO STDOUT`);
  const { rows: cols } = await client.query<{ name: string }>(
    `SELECT quote_ident(attname) AS name FROM pg_attribute WHERE attrelid = $1::regclass AND ` +
      `attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [source],
  );
  const names = cols.map((c) => c.name);
  const conflict =
    mode === 'insert'
      ? 'DO NOTHING'
      : `DO UPDATE SET ${names
          .filter((n) => n !== 'id')
          .map((n) => `${n} = EXCLUDED.${n}`)
          .join(', ')}`;
  const t0 = process.hrtime.bigint();
  await client.query('BEGIN');
  await client.query(`CREATE TEMP TABLE bench_stage (LIKE ${source}) ON COMMIT DROP`);
  await copyFrom(client, 'COPY bench_stage FROM STDIN', chunks);
  const res = await client.query(`INSERT INTO ${target} SELECT * FROM bench_stage ON CONFLICT (id) ${conflict}`);
  await client.query('COMMIT');
  return { rows: res.rowCount ?? 0, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}
