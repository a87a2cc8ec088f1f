/**
 * The sink's per-record CPU without Kafka or PostgreSQL (a command, not a test): the records of a
 * fetched batch (framed keys and values, as kafkajs hands them over) checked by the engine's
 * decoder, collapsed, and written as COPY text (the bulk load's `direct` target), per checkout
 * given, interleaved over rounds in this one process so a busy machine weighs on all alike.
 * Prints µs per record for users (every field of the shipped schema set, as bench/sink.ts) and
 * login events. Then the GZIP decompression of the fetched batches (500 users, zlib level 1, as the
 * connector writes them): kafkajs's codec (zlib's unzip) or, in a checkout that has it,
 * kafka/fetch-gunzip.ts; µs a user of the process's CPU (the thread pool's included) and of the
 * main thread (event loop utilization: the sink's bound). Then the Record decoding of those
 * batches' records as kafkajs's RecordBatch decoder does it (a Decoder a record, then the Record
 * decoder), with six headers a user record as the connector writes them (run id, connector, org,
 * content hash, device, UserLogin flags): kafkajs's Record decoder or, in a checkout that has it,
 * kafka/fetch-records.ts; µs a record (its share of the GC included, as it falls).
 *
 *   node -r ts-node/register/transpile-only bench/sink-hot-path.ts [--records N] [--rounds N] [--roots a,b]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { KafkaMessage } from 'kafkajs';
import { avroType, loadConnectorSchemas, type AvroSchemaJson } from '../schemas/avro';
import { frame } from '../schemas/wire';
import { login, loginId, user, userId } from '../test/support/sink-fixtures';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Checkout {
  root: string;
  run(kind: 'users' | 'logins', messages: readonly KafkaMessage[]): number;
}

async function load(root: string, schemas: Record<number, AvroSchemaJson>): Promise<Checkout> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const at = (p: string) => require(path.resolve(root, p)) as unknown;
  const { createDecoder } = at('sinks/engine/decode') as typeof import('../sinks/engine/decode');
  const { collapseUpserts, collapseInserts } = at('sinks/engine/collapse') as typeof import('../sinks/engine/collapse');
  const { encodeRows } = at('sinks/postgres/encode-rows') as typeof import('../sinks/postgres/encode-rows');
  const { SinkTable } = at('sinks/postgres/table') as typeof import('../sinks/postgres/table');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const decoder = createDecoder({ byId: (id: number) => Promise.resolve(schemas[id]) } as never);
  for (const id of [1, 2, 3]) await decoder.writer(id);
  const tables = {
    users: new SinkTable({ schema: 'public', name: 'u' }),
    logins: new SinkTable({ schema: 'public', name: 'l' }),
  };
  tables.users.absorb(schemas[2]);
  tables.logins.absorb(schemas[3]);
  return {
    root,
    run(kind, messages) {
      const good: Parameters<typeof collapseUpserts>[0][number][] = [];
      for (const m of messages) {
        const source = { topic: kind, partition: 0, offset: m.offset, key: m.key, value: m.value, headers: m.headers };
        good.push({ decoded: decoder.decodeCached!(m)!, source });
      }
      const ops = kind === 'users' ? collapseUpserts(good) : collapseInserts(good);
      const rows = ops.filter((o): o is Extract<typeof o, { value: unknown }> => o.kind !== 'delete');
      const encoded = encodeRows(tables[kind], rows, 2000, 'direct')!;
      const bytes = encoded.chunks.reduce((n, c) => n + c.length, 0);
      encoded.release();
      return bytes;
    },
  };
}

async function main(): Promise<void> {
  const records = Number(arg('records', '3000'));
  const rounds = Number(arg('rounds', '30'));
  const roots = arg('roots', '.').split(',');
  const shipped = loadConnectorSchemas();
  const schemas: Record<number, AvroSchemaJson> = {
    1: 'string' as AvroSchemaJson,
    2: shipped.userValue,
    3: shipped.loginEventValue,
  };
  const key = avroType('string' as AvroSchemaJson);
  const types = { users: avroType(shipped.userValue), logins: avroType(shipped.loginEventValue) };
  const fields = (shipped.userValue as { fields: { name: string; type: unknown }[] }).fields;
  const full = (n: number) => {
    const out: Record<string, unknown> = { ...user(userId(n)) };
    for (const f of fields) {
      if (out[f.name] !== undefined) continue;
      const t = Array.isArray(f.type) ? f.type.find((x) => x !== 'null') : f.type;
      if (t === 'boolean') out[f.name] = ((n * 31 + f.name.length) & 3) === 0;
      else if (t === 'string') out[f.name] = `${f.name} ${n % 97}`;
    }
    return out;
  };
  const message = (id: string, schema: number, value: Buffer, n: number): KafkaMessage =>
    ({
      key: frame(1, key.toBuffer(id)),
      value: frame(schema, value),
      offset: String(n),
      timestamp: '0',
      attributes: 0,
      headers: {},
    }) as KafkaMessage;
  const batches = {
    users: Array.from({ length: records }, (_, n) => message(userId(n), 2, types.users.toBuffer(full(n)), n)),
    logins: Array.from({ length: records }, (_, n) =>
      message(loginId(n), 3, types.logins.toBuffer(login(loginId(n), userId(n), 1_700_000_000_000 + n)), n),
    ),
  };
  const checkouts = await Promise.all(roots.map((r) => load(r, schemas)));
  const spent = new Map<string, { users: number; logins: number }>(roots.map((r) => [r, { users: 0, logins: 0 }]));
  for (let round = 0; round < rounds; round++)
    for (const c of round % 2 ? [...checkouts].reverse() : checkouts)
      for (const kind of ['users', 'logins'] as const) {
        const t0 = process.hrtime.bigint();
        c.run(kind, batches[kind]);
        // the first rounds warm the JIT: not counted
        if (round >= 3) spent.get(c.root)![kind] += Number(process.hrtime.bigint() - t0) / 1e3;
      }
  const per = (us: number) => (us / ((rounds - 3) * records)).toFixed(2);
  process.stdout.write('| checkout | users µs/record | login events µs/record |\n|---|---:|---:|\n');
  for (const [root, s] of spent) process.stdout.write(`| ${root} | ${per(s.users)} | ${per(s.logins)} |\n`);

  // GZIP batches of 500 users, decompressed one after another as a fetch's are
  const gzipped = Array.from({ length: Math.max(1, Math.floor(records / 500)) }, (_, b) =>
    zlib.gzipSync(Buffer.concat(batches.users.slice(b * 500, (b + 1) * 500).map((m) => m.value!)), { level: 1 }),
  );
  const unzip = promisify(zlib.unzip);
  const decompressors = roots.map((root) => {
    const own = path.resolve(root, 'kafka', 'fetch-gunzip.ts');
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    if (fs.existsSync(own)) return (require(own) as typeof import('../kafka/fetch-gunzip')).gunzipSized;
    return (b: Buffer) => unzip(b);
  });
  const cost = roots.map(() => ({ cpu: 0, main: 0 }));
  for (let round = 0; round < rounds; round++)
    for (const i of round % 2 ? [...roots.keys()].reverse() : [...roots.keys()]) {
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      for (const g of gzipped) await decompressors[i](g);
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      if (round < 3) continue;
      cost[i].cpu += cpu.user + cpu.system;
      cost[i].main += elu.active * 1000;
    }
  const perUser = (us: number) => (us / ((rounds - 3) * gzipped.length * 500)).toFixed(2);
  process.stdout.write('\n| checkout | gunzip CPU µs/user | of it on the main thread |\n|---|---:|---:|\n');
  roots.forEach((root, i) =>
    process.stdout.write(`| ${root} | ${perUser(cost[i].cpu)} | ${perUser(cost[i].main)} |\n`),
  );
  recordDecoding(roots, batches.users, rounds);
}

/** The records of 500-user batches decoded as kafkajs's RecordBatch decoder decodes them. */
function recordDecoding(roots: string[], users: readonly KafkaMessage[], rounds: number): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  type Decoder = { buffer: Buffer; offset: number; readVarIntBytes(): Buffer };
  const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoder;
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => { buffer: Buffer };
  const kafkajs = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (d: Decoder, c: object) => unknown;
  const decoders = roots.map((root) => {
    const own = path.resolve(root, 'kafka', 'fetch-records.ts');
    if (fs.existsSync(own)) return (require(own) as typeof import('../kafka/fetch-records')).decodeRecord;
    return kafkajs;
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
  // a user record's headers as bench/sink.ts publishes them (its connectorHeaders; that file runs when loaded)
  const headers = (n: number) => ({
    'neurons-run-id': '2f6c3a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
    'neurons-connector': 'salesforce',
    'neurons-source-org': '00D000000000001EAA',
    'neurons-content-hash': `v2:${(n * 2654435761).toString(16).padStart(40, '0')}`,
    'neurons-device': `${n % 7}|Windows|Chrome|${n % 1000}`,
    'neurons-user-login': n % 3 ? 'ff' : 'tf',
  });
  const batches: Buffer[] = [];
  for (let b = 0; b * 500 < users.length; b++) {
    const slice = users.slice(b * 500, (b + 1) * 500);
    batches.push(
      Buffer.concat(
        // kafkajs's Record encoder writes the record's length first, as a batch holds it
        slice.map(
          (m, i) =>
            Record({ offsetDelta: i, timestampDelta: i, key: m.key, value: m.value, headers: headers(i) }).buffer,
        ),
      ),
    );
  }
  const spent = roots.map(() => ({ us: 0, records: 0 }));
  const kept: unknown[] = [];
  for (let round = 0; round < rounds; round++)
    for (const i of round % 2 ? [...roots.keys()].reverse() : [...roots.keys()]) {
      const t0 = process.hrtime.bigint();
      let records = 0;
      for (const [b, buf] of batches.entries()) {
        // a batch context as kafkajs's RecordBatch decoder builds it (one a batch)
        const ctx = { firstOffset: String(4_000_000 + b * 500), firstTimestamp: '1764300000000', timestampType: 0 };
        const d = new Decoder(buf);
        const out = new Array(500);
        for (let r = 0; r < 500 && records < users.length; r++, records++)
          out[r] = decoders[i](new Decoder(d.readVarIntBytes()), ctx);
        kept[b % 4] = out; // a fetch's records live until processed
      }
      const us = Number(process.hrtime.bigint() - t0) / 1e3;
      if (round < 3) continue;
      spent[i].us += us;
      spent[i].records += records;
    }
  process.stdout.write('\n| checkout | Record decoding µs/user record (six headers) |\n|---|---:|\n');
  roots.forEach((root, i) =>
    process.stdout.write(`| ${root} | ${(spent[i].us / Math.max(1, spent[i].records)).toFixed(2)} |\n`),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
