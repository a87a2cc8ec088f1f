/**
 * Hot-path micro-benchmark (a command, not a test): the per-user steps of a full run on the
 * simulator's users, each variant timed side by side in this one process, interleaved over
 * rounds so a busy machine weighs on both alike. Prints µs per user.
 *
 *   node -r ts-node/register/transpile-only bench/hot-path.ts [users]   (default 5000)
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type avro from 'avsc';
import { contentHash, rowDigest } from '../pipeline/records';
import {
  convertScalar,
  createLatestLoginAssigner,
  createLatestLoginMerger,
  createUserStage,
  type AvroRecord,
  type UserRecord,
} from '../pipeline/stages';
import { avroType } from '../schemas/avro';
import { loadCatalog } from '../schemas/catalog';
import { inProcessExtraction } from './in-process';
import { encodeFramed, frame } from '../schemas/wire';
import { Partitioners, type Message, type PartitionMetadata } from 'kafkajs';
import { keyPartitioner } from '../kafka/partitioner';
import { encodeRecords } from '../kafka/produce-encoding';
import { zstdFrames } from '../kafka/zstd-frames';
import { HEADERS } from '../schemas/topics';

// kafkajs internals the produce path runs per record (pinned version): timed here without a broker
/* eslint-disable @typescript-eslint/no-require-imports */
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: ReturnType<typeof keyPartitioner>;
}) => Record<string, Message[]>;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}) => { buffer: Buffer };
const KafkajsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeEncoderArray(encoders: { buffer: Buffer }[]): { buffer: Buffer };
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The content hash before s9-cpu (string concatenation, then one update): the same digest. */

function contentHashBefore(row: Readonly<Record<string, string>>, seed: string): string {
  let text = seed;
  for (const k in row) text += `\u0001${k}\u0000${row[k]}`;
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** encodeFramed before this branch: validate, toBuffer, then a header buffer and a concat. */
function encodeFramedBefore(type: avro.Type, schemaId: number, value: unknown): Buffer {
  if (!type.isValid(value, { errorHook: () => undefined })) throw new Error('invalid');
  return frame(schemaId, type.toBuffer(value));
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/** A datetime before s5-cpu: the calendar checked by a Date.UTC round trip (a Date per value). */
function datetimeBefore(raw: string): number | null {
  const m = DATETIME.exec(raw);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const date = new Date(local);
  const same = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  if (!same || h > 23 || mi > 59 || s > 59) return null;
  return m[8] === 'Z' ? local : null;
}

/** kafkajs's records of one send: a Record (with its header Encoders) each, written into one Encoder. */
function kafkajsRecords(batch: Message[]): Buffer {
  const records = batch.map((m, i) =>
    encodeRecord({
      offsetDelta: i,
      timestampDelta: 0,
      key: m.key as Buffer,
      value: m.value as Buffer,
      headers: m.headers as Record<string, string>,
    }),
  );
  return new KafkajsEncoder().writeEncoderArray(records).buffer;
}

function time(n: number, fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1000 / n;
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 5000);
  const { ex, ctx, close } = await inProcessExtraction(users, 0);
  try {
    const catalog = loadCatalog();
    const stage = createUserStage(catalog.userMapping);
    const merge = createLatestLoginMerger(catalog.userMapping, catalog.loginHistoryMapping);
    const assign = createLatestLoginAssigner(catalog.userMapping, catalog.loginHistoryMapping);
    const rows: Record<string, string>[] = [];
    const records: AvroRecord[] = [];
    const ux = ex.users();
    for await (const row of ux.rows as AsyncIterable<Record<string, string>>) {
      const r = stage(row, ctx);
      if (!r.ok) continue;
      rows.push(row);
      records.push(r.record);
    }
    await ux.done;
    const type = avroType(catalog.schemas.userValue);
    // the user's datetime columns (Salesforce sends Z), as the user stage converts them
    const datetimeColumns = catalog.userMapping.rows
      .filter((r) => r.sourceObject === 'User' && r.type === 'timestamp-millis')
      .map((r) => r.sourceField);
    const datetimes = rows.map((r) => datetimeColumns.map((c) => r[c]).filter((v) => v));
    console.log(`datetime values a user: ${(datetimes.flat().length / rows.length).toFixed(1)}`);
    for (const vs of datetimes)
      for (const v of vs) {
        const c = convertScalar('timestamp-millis', v);
        if (!c.ok || c.value !== datetimeBefore(v)) throw new Error(`datetime differs: ${v}`);
      }
    const seed = 'bench-fingerprint-0';
    const n = rows.length;
    // Same output first: the figures compare equal work.
    for (let i = 0; i < n; i++) {
      if (contentHash(rows[i], seed) !== contentHashBefore(rows[i], seed)) throw new Error(`hash differs, row ${i}`);
      if (!encodeFramed(type, 7, records[i]).equals(encodeFramedBefore(type, 7, records[i])))
        throw new Error(`encoding differs, record ${i}`);
    }
    // the users' records as the users phase sends them: framed key and value, the six headers
    const messages: Message[] = records.map((r, i) => ({
      key: frame(7, Buffer.from(String(r.id))),
      value: encodeFramed(type, 7, r),
      headers: {
        [HEADERS.runId]: '0f8fad5b-d9cb-469f-a165-70867728950e',
        [HEADERS.connector]: 'bench-connector',
        [HEADERS.org]: '00D000000000001AAA',
        [HEADERS.contentHash]: contentHash(rows[i], seed),
        [HEADERS.device]: '1732662000000|0Ya000000000001|Chrome|Windows|Browser|10.0.0.1|Application',
        [HEADERS.userLogin]: 'ff',
      },
    }));
    const partitionMetadata: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    }));
    const sends = (fn: (batch: Message[]) => void) => {
      for (let i = 0; i < n; i += 500) fn(messages.slice(i, i + 500));
    };
    const kafkajsPartitioner = Partitioners.DefaultPartitioner();
    const ourPartitioner = keyPartitioner();
    sends((batch) => {
      const a = groupMessagesPerPartition({
        topic: 'u',
        partitionMetadata,
        messages: batch,
        partitioner: ourPartitioner,
      });
      const b = groupMessagesPerPartition({
        topic: 'u',
        partitionMetadata,
        messages: batch,
        partitioner: kafkajsPartitioner,
      });
      if (
        JSON.stringify(Object.keys(a).map((p) => a[p].map((m) => String(m.key)))) !==
        JSON.stringify(Object.keys(b).map((p) => b[p].map((m) => String(m.key))))
      )
        throw new Error('partitions differ');
    });
    sends((batch) => {
      if (!encodeRecords(batch).equals(kafkajsRecords(batch))) throw new Error('record encoding differs');
    });
    const figures: Record<string, number[]> = {};
    const add = (k: string, us: number) => (figures[k] ??= []).push(us);
    let sink = 0;
    for (let round = 0; round < 7; round++) {
      add(
        'content hash, before',
        time(n, () => rows.forEach((r) => (sink += contentHashBefore(r, seed).length))),
      );
      add(
        'content hash, after',
        time(n, () => rows.forEach((r) => (sink += contentHash(r, seed).length))),
      );
      // the users' digest since s12: the column list hashed once, then the values with their lengths
      add(
        'row digest (rowDigest, the users since s12)',
        time(n, () => rows.forEach((r) => (sink += rowDigest(r, seed).length))),
      );
      add(
        'encode value, before',
        time(n, () => records.forEach((r) => (sink += encodeFramedBefore(type, 7, r).length))),
      );
      add(
        'encode value, the check first (89b40e8)',
        time(n, () =>
          records.forEach((r) => {
            if (!type.isValid(r)) throw new Error('does not fit');
            sink += encodeFramed(type, 7, r).length;
          }),
        ),
      );
      add(
        'encode value, after',
        time(n, () => records.forEach((r) => (sink += encodeFramed(type, 7, r).length))),
      );
      add(
        'datetime columns, before (Date round trip)',
        time(n, () => datetimes.forEach((vs) => vs.forEach((v) => (sink += datetimeBefore(v) ?? 0)))),
      );
      add(
        'datetime columns, after',
        time(n, () =>
          datetimes.forEach((vs) => vs.forEach((v) => (sink += convertScalar('timestamp-millis', v).ok ? 1 : 0))),
        ),
      );
      add(
        'map row (user stage)',
        time(n, () => rows.forEach((r) => (sink += stage(r, ctx).ok ? 1 : 0))),
      );
      for (const [name, partitioner] of [
        ['kafkajs DefaultPartitioner', kafkajsPartitioner],
        ['keyPartitioner', ourPartitioner],
      ] as const)
        add(
          `partition + group, sends of 500, 3 partitions (${name})`,
          time(n, () =>
            sends((batch) => {
              sink += Object.keys(
                groupMessagesPerPartition({ topic: 'u', partitionMetadata, messages: batch, partitioner }),
              ).length;
            }),
          ),
        );
      add(
        'kafkajs record encoding (key, value, six headers)',
        time(n, () =>
          messages.forEach((m, i) => {
            sink += encodeRecord({
              offsetDelta: i,
              timestampDelta: 0,
              key: m.key as Buffer,
              value: m.value as Buffer,
              headers: m.headers as Record<string, string>,
            }).buffer.length;
          }),
        ),
      );
      // kafkajs's records of a send as its RecordBatch collects them (an Encoder grown to fit) against
      // kafka/produce-encoding.ts's one buffer; same bytes (checked above)
      add(
        'records of a send of 500 (kafkajs Record encoders)',
        time(n, () => sends((batch) => (sink += kafkajsRecords(batch).length))),
      );
      add(
        'records of a send of 500 (produce-encoding.ts)',
        time(n, () => sends((batch) => (sink += encodeRecords(batch).length))),
      );
      // what the users phase does per user: map, merge the device (null here), encode; the merge a
      // copy (before s9-cpu) or into the record the stage built (the users phase since)
      add(
        'map + merge in place + encode (users phase)',
        time(n, () =>
          rows.forEach((r) => {
            const m = stage(r, ctx);
            if (m.ok) sink += encodeFramed(type, 7, assign(m.record as UserRecord, null)).length;
          }),
        ),
      );
      add(
        'map + merge (copy) + encode',
        time(n, () =>
          rows.forEach((r) => {
            const m = stage(r, ctx);
            if (m.ok) sink += encodeFramed(type, 7, merge(m.record as UserRecord, null)).length;
          }),
        ),
      );
    }
    // The producer's compression over batches of 500 encoded users: kafkajs's gzip (zlib.gzip at the
    // default level 6), gzip level 1, and zstd at its default level 3 (kafka/zstd.ts, Node's own); the
    // ratios say what the topic's bytes would be.
    const batches: Buffer[] = [];
    for (let i = 0; i < n; i += 500) {
      batches.push(Buffer.concat(records.slice(i, i + 500).map((r) => encodeFramed(type, 7, r))));
    }
    const zstd = zlib as unknown as {
      zstdCompressSync(b: Buffer, o?: { params: Record<number, number> }): Buffer;
      zstdDecompressSync(b: Buffer): Buffer;
    };
    // kafka/zstd.ts since s9-zstd: the content checksum (ZSTD_c_checksumFlag, 201) and the frame walk
    const checksum = { params: { [201]: 1 } };
    const codecs: [string, (b: Buffer) => Buffer, (b: Buffer) => Buffer][] = [
      ['gzip level 6 (kafkajs)', (b) => zlib.gzipSync(b), (b) => zlib.gunzipSync(b)],
      ['gzip level 1', (b) => zlib.gzipSync(b, { level: 1 }), (b) => zlib.gunzipSync(b)],
      ['zstd level 3', (b) => zstd.zstdCompressSync(b), (b) => zstd.zstdDecompressSync(b)],
      [
        'zstd level 3 + checksum + frame walk (kafka/zstd.ts)',
        (b) => zstd.zstdCompressSync(b, checksum),
        (b) => Buffer.concat(zstdFrames(b).map((f) => zstd.zstdDecompressSync(f.data))),
      ],
    ];
    const raw = batches.reduce((a, b) => a + b.length, 0);
    for (let round = 0; round < 5; round++) {
      for (const [name, compress, decompress] of codecs) {
        add(
          `${name}, compress`,
          time(n, () => batches.forEach((b) => (sink += compress(b).length))),
        );
        const compressed = batches.map(compress);
        add(
          `${name}, decompress`,
          time(n, () => compressed.forEach((b) => (sink += decompress(b).length))),
        );
      }
    }
    for (const [name, compress] of codecs) {
      const bytes = batches.reduce((a, b) => a + compress(b).length, 0);
      console.log(
        `${name}: ${(bytes / n).toFixed(0)} B a user (${(raw / bytes).toFixed(1)}x of ${(raw / n).toFixed(0)} B)`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `\n${n} simulator users, ${Object.keys(rows[0]).length} columns a row; median of 7 rounds (${sink > 0})\n`,
    );
    console.log('| step | µs/user |\n|---|---:|');
    for (const [k, xs] of Object.entries(figures)) console.log(`| ${k} | ${median(xs).toFixed(1)} |`);
  } finally {
    await close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
