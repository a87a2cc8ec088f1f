import type { Message, Producer, ProducerBatch } from 'kafkajs';
import { toExtraction } from '../../../connectors/salesforce/row-stream';
import type { Row } from '../../../connectors/salesforce/csv-page';
import { FatalError } from '../../../kernel/errors';
import { keyPartitioner } from '../../../kafka/partitioner';
import { mulberry32 } from '../../../simulator/prng';
import { drainBatches } from '../../../pipeline/drain';
import { drain } from '../../support/drain-oracle';
import { kafkaWriter, type OutRecord, type PublisherOptions } from '../../../pipeline/kafka/publisher';

/**
 * Session 14: the login events go through drainBatches (a page's rows at a time) instead of drain
 * (a highland value a row). Today's path, drain, is the oracle: over random pages (sizes, waits),
 * records (dropped rows, dead letters to a second topic, shared headers) and publisher options, the
 * records reach kafkaWriter's producer with the same keys, values and headers, on the same
 * partitions (keyPartitioner), in the same order per partition, and the run resolves with the same
 * count and result. A failed extraction, a failed write, a record function that throws and a stop
 * reject both with the same error, clean the extraction up, and drainBatches starts no write after
 * it rejected and never has more than maxInFlight writes outstanding. DRAIN_S14_SEED replays.
 */
type Outcome =
  | { kind: 'complete' }
  | { kind: 'extraction fails'; atBatch: number }
  | { kind: 'write fails'; atRecord: number }
  | { kind: 'record throws'; atRow: number }
  | { kind: 'stop'; atBatch: number };

interface Run {
  settled: { ok: true; value: [number, unknown] } | { ok: false; error: unknown };
  /** topic/partition → [key, value, headers] in order */
  partitions: Map<string, string[]>;
  sends: number;
  maxInFlight: number;
  sendsAfterSettled: number;
  cleanedUp: boolean;
}

const PARTITIONS = 3;
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
  partitionId: i,
  leader: 0,
  replicas: [0],
  isr: [0],
  partitionErrorCode: 0,
}));

describe('drainBatches (the login events) against drain', () => {
  it('the same records, partitions and order per partition; the same outcome when a part fails', async () => {
    const seed = process.env.DRAIN_S14_SEED ? Number(process.env.DRAIN_S14_SEED) : Math.floor(Math.random() * 2 ** 31);
    console.log(`drain-batches-s14: seed ${seed} (replay with DRAIN_S14_SEED=${seed})`);
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);

    for (let round = 0; round < 150; round++) {
      const batches: Row[][] = [];
      let n = 0;
      for (let b = 1 + int(10); b > 0; b--)
        batches.push(
          Array.from({ length: int(5) === 0 ? 0 : 1 + int(400) }, () => {
            const i = n++;
            return {
              Id: `0Ya${String(i).padStart(12, '0')}`,
              UserId: `005${String(int(60)).padStart(12, '0')}`,
              Status: int(10) === 0 ? 'Invalid Password' : 'Success',
              Browser: int(7) === 0 ? 'Ünïcödé 日本' : `Chrome ${int(130)}`,
            };
          }),
        );
      const total = n;
      // the records toRecord returns (below): a refused send is the one holding the atRecord-th of them,
      // the same record on either path (the two may group records into sends differently: drain's
      // linger counts from a batch's first record, drainBatches' from its last page)
      const produced = batches.flat().filter((r) => !(r.Status !== 'Success' && r.Browser.startsWith('Ü'))).length;
      const publisher: PublisherOptions = {
        batchSize: 1 + int(int(2) === 0 ? 20 : 600),
        maxInFlight: 1 + int(4),
        compression: 'none',
        lingerMs: int(3) === 0 ? 0 : 1 + int(20),
      };
      const pick = int(6);
      const planned: Outcome =
        pick <= 1 || total === 0
          ? { kind: 'complete' }
          : pick === 2
            ? { kind: 'extraction fails', atBatch: int(batches.length + 1) }
            : pick === 3
              ? { kind: 'write fails', atRecord: int(produced) }
              : pick === 4
                ? { kind: 'record throws', atRow: int(total) }
                : { kind: 'stop', atBatch: int(batches.length) };
      const failure = new FatalError('SALESFORCE_INCOMPLETE_RESULTS', `round ${round}: the job's count differs`);
      const writeError = new Error(`round ${round}: the broker refused the send`);
      const recordError = new Error(`round ${round}: a caller bug in the record function`);
      const waits = Array.from({ length: batches.length + 1 }, () => int(3));
      const sendWaits = Array.from({ length: 4096 }, () => int(3));
      const headers = Object.freeze({ 'neurons-run-id': `run-${round}`, 'neurons-connector': 'c' });

      const once = async (path: typeof drain, outcome: Outcome = planned): Promise<Run> => {
        const run: Run = {
          settled: { ok: false, error: undefined },
          partitions: new Map(),
          sends: 0,
          maxInFlight: 0,
          sendsAfterSettled: 0,
          cleanedUp: false,
        };
        let settled = false;
        let inFlight = 0;
        let recordsSent = 0;
        const stop = new AbortController();
        const gen = (async function* () {
          try {
            for (let b = 0; b < batches.length; b++) {
              if (outcome.kind === 'extraction fails' && outcome.atBatch === b) throw failure;
              if (outcome.kind === 'stop' && outcome.atBatch === b) stop.abort();
              if (waits[b] === 1) await new Promise((r) => setImmediate(r));
              else if (waits[b] === 2) await new Promise((r) => setTimeout(r, 1 + (b % 3)));
              yield batches[b];
            }
            if (outcome.kind === 'extraction fails') throw failure;
            return { rowsRead: total };
          } finally {
            run.cleanedUp = true;
          }
        })();
        const ex = toExtraction(gen, new AbortController());
        const partition = keyPartitioner();
        const producer = {
          async sendBatch(batch: ProducerBatch) {
            if (settled) run.sendsAfterSettled++;
            const at = run.sends++;
            const size = batch.topicMessages!.reduce((sum, t) => sum + t.messages.length, 0);
            const first = recordsSent;
            recordsSent += size;
            inFlight++;
            run.maxInFlight = Math.max(run.maxInFlight, inFlight);
            try {
              // the idempotent producer (maxInFlightRequests 1) stores sends in the order they are made:
              // each message on its key's partition; a refused send stores nothing
              const refused =
                outcome.kind === 'write fails' && outcome.atRecord >= first && outcome.atRecord < first + size;
              if (!refused)
                for (const { topic, messages } of batch.topicMessages!)
                  for (const m of messages as Message[]) {
                    const p = partition({ topic, partitionMetadata, message: m });
                    const list = run.partitions.get(`${topic}/${p}`) ?? [];
                    list.push(JSON.stringify([String(m.key), String(m.value), m.headers]));
                    run.partitions.set(`${topic}/${p}`, list);
                  }
              const wait = sendWaits[at % sendWaits.length];
              if (wait === 1) await new Promise((r) => setImmediate(r));
              else if (wait === 2) await new Promise((r) => setTimeout(r, 2));
              if (refused) throw writeError;
            } finally {
              inFlight--;
            }
            return [];
          },
        } as unknown as Producer;
        let rows = 0;
        const toRecord = (row: Record<string, string>): OutRecord | null => {
          if (outcome.kind === 'record throws' && rows === outcome.atRow) throw recordError;
          rows++;
          if (row.Status !== 'Success' && row.Browser.startsWith('Ü')) return null; // dropped
          const dead = row.Status !== 'Success';
          return {
            topic: dead ? 'dead-letters' : 'logins',
            key: Buffer.from(dead ? row.Id : row.UserId),
            value: Buffer.from(JSON.stringify(row)),
            headers,
          };
        };
        try {
          const value = await path(ex, toRecord, kafkaWriter(producer, publisher), publisher, stop.signal);
          run.settled = { ok: true, value };
        } catch (error) {
          run.settled = { ok: false, error };
        }
        settled = true;
        // a send started after the run settled would show within a few turns
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
        return run;
      };

      const complete = async () => (await once(drain, { kind: 'complete' })).partitions;
      const outcome = planned;
      const before = await once(drain);
      const after = await once(drainBatches);
      const where = `round ${round} (${outcome.kind}, ${JSON.stringify(publisher)})`;
      expect({ where, outcome: after.settled.ok, error: !after.settled.ok && after.settled.error }).toEqual({
        where,
        outcome: before.settled.ok,
        error: !before.settled.ok && before.settled.error,
      });
      expect({ where, cleanedUp: after.cleanedUp }).toEqual({ where, cleanedUp: true });
      expect({ where, sendsAfterSettled: after.sendsAfterSettled }).toEqual({ where, sendsAfterSettled: 0 });
      expect(after.maxInFlight).toBeLessThanOrEqual(publisher.maxInFlight);
      if (before.settled.ok && after.settled.ok) {
        expect({ where, value: after.settled.value }).toEqual({ where, value: before.settled.value });
        expect({ where, partitions: after.partitions }).toEqual({ where, partitions: before.partitions });
      } else if (outcome.kind !== 'write fails') {
        // what a failed run did write is, per partition, the start of what the complete run writes (a
        // refused send's records are missing from the middle, on either path: the sends after it were made)
        const whole = await complete();
        for (const [tp, list] of after.partitions)
          expect({ where, tp, written: list }).toEqual({
            where,
            tp,
            written: (whole.get(tp) ?? []).slice(0, list.length),
          });
      }
    }
  }, 120_000);
});
