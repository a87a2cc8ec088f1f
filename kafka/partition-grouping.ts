import type { Message, PartitionerArgs, PartitionMetadata } from 'kafkajs';
import { FatalError } from '../kernel/errors';

/**
 * A send's messages as an array whose grouping by partition is linear.
 *
 * kafkajs 2.2.4 groups the messages of each topic of a send by partition
 * (producer/groupMessagesPerPartition.js):
 *
 *     messages.reduce((result, message) => {
 *       const partition = partitioner({ topic, partitionMetadata, message })
 *       const current = result[partition] || []
 *       return Object.assign(result, { [partition]: [...current, message] })
 *     }, {})
 *
 * copying the partition's list for every message: m²/2 element copies for m messages of a partition in
 * one send. A first full run sends its index entries 500 at a time into the index topics' one
 * partition (250 copies, ~2 KB of garbage a message): at 20k users that function allocated 26 KB a
 * user, 36 % of all the run's allocation (V8's sampling heap profiler, docs/performance-s10-cpu.md).
 * kafkajs takes the function at load (no object to swap it on) but calls `reduce` on the caller's
 * array, so the array given here answers that one call, `reduce(step, {})`, linearly: kafkajs's own
 * step runs once per message, in order (the partitioner, a round-robin one included, sees exactly
 * the calls it saw before), on an accumulator that reads as empty and records what the step assigns;
 * the partition it answers is read back and the message appended to that partition's list. With the
 * producers' partitioner (producerPartitioner, which reports its calls: notePartitionerCall below) only the
 * first message goes through kafkajs's step; the others go to the partitioner the step called, with
 * the step's topic and partition metadata (session 13). Same groups, same order, same result object
 * (test/unit/kafka/partition-grouping.test.ts and partition-grouping-s13.test.ts, kafkajs's own
 * function as the oracle). A step that does not hand back its accumulator with [message] under one
 * partition is not the kafkajs this was written for: the send fails (FatalError) rather than guess.
 * Any other reduce is Array's own.
 */
class PartitionGroupedMessages extends Array<Message> {
  // map, filter, slice…: plain arrays
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

function groupingReduce(this: Message[], callback: (...args: unknown[]) => unknown, ...initial: unknown[]): unknown {
  if (initial.length !== 1 || !isEmptyPlainObject(initial[0])) {
    return (Array.prototype.reduce as (...args: unknown[]) => unknown).apply(this, [callback, ...initial]);
  }
  const groups = initial[0] as Record<string, Message[]>;
  const n = this.length;
  // The partitioner kafkajs's step called, with its topic and partition metadata (the step's own
  // constants), once a step has shown it: the later messages go to it directly (below).
  let direct: NotedPartitioner | undefined;
  let topic = '';
  let partitionMetadata: PartitionMetadata[] = [];
  for (let i = 0; i < n; i++) {
    if (!(i in this)) continue; // as Array's reduce: holes are skipped
    const message = this[i];
    const own = message.partition;
    if (direct !== undefined && (own === null || own === undefined || typeof own === 'number')) {
      // What kafkajs's step does with this message: one call of its partitioner with its topic, its
      // partition metadata and the message, then the message appended under the answer as a property
      // key. A noted partitioner answers a number for such a message (kafka/partitioner.ts).
      const answer: unknown = direct({ topic, partitionMetadata, message });
      if (typeof answer !== 'number') throw unknownStep();
      const key = String(answer);
      const group = groups[key];
      if (group === undefined) groups[key] = [message];
      else group.push(message);
      continue;
    }
    step.reset();
    noted.armed = true;
    noted.calls = 0;
    let out: unknown;
    let call: NotedCall | undefined;
    try {
      out = callback(step.accumulator, message, i, this);
    } finally {
      call = takeNoted(); // whatever the step did, nothing of this send is held after it
    }
    if (out !== step.accumulator || step.sets !== 1 || step.unexpected) throw unknownStep();
    const list = step.value;
    if (!Array.isArray(list) || list.length !== 1 || list[0] !== message) throw unknownStep();
    const group = groups[step.key];
    if (group === undefined) groups[step.key] = list as Message[];
    else group.push(message);
    // The step called one noted partitioner, once, for this message, and filed the message under its
    // answer: it is kafkajs's step, and the partitioner it calls is known.
    if (
      direct === undefined &&
      call.calls === 1 &&
      call.message === message &&
      typeof call.answer === 'number' &&
      String(call.answer) === step.key
    ) {
      direct = call.partitioner;
      topic = call.topic;
      partitionMetadata = call.partitionMetadata;
    }
  }
  return groups;
}

type NotedPartitioner = (args: PartitionerArgs) => unknown;

interface NotedCall {
  calls: number;
  partitioner: NotedPartitioner | undefined;
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: Message | undefined;
  answer: unknown;
}

/** What the step's partitioner reported; disarms and clears the record. */
function takeNoted(): NotedCall {
  const { calls, partitioner, topic, partitionMetadata, message, answer } = noted;
  noted.armed = false;
  noted.partitioner = undefined;
  noted.partitionMetadata = [];
  noted.message = undefined;
  noted.answer = undefined;
  return { calls, partitioner, topic, partitionMetadata, message, answer };
}

/** The partitioner call made during a step (kafka/partitioner.ts reports its calls while a step runs). */
const noted = {
  armed: false,
  calls: 0,
  partitioner: undefined as NotedPartitioner | undefined,
  topic: '',
  partitionMetadata: [] as PartitionMetadata[],
  message: undefined as Message | undefined,
  answer: undefined as unknown,
};

/**
 * A partitioner reports each call here (kafka/partitioner.ts producerPartitioner); only a call made inside
 * a grouping step is kept. A partitioner may report itself only if calling it directly, with the
 * same topic, partition metadata and message as kafkajs's step gives it, answers what the step's call
 * would (one call per message, in order: a round-robin state advances alike), and if it answers a
 * number for every message whose own `partition` is unset or a number. Then a send's messages after the
 * first go to it directly, without kafkajs's step: the step's `[...current, message]`, its
 * `{ [partition]: … }` and `Object.assign` through the accumulator's Proxy were ~5 KB and ~7 µs of a
 * first full run's busy time a user (docs/performance-s13-cpu.md).
 */
export function notePartitionerCall(partitioner: NotedPartitioner, args: PartitionerArgs, answer: unknown): void {
  if (!noted.armed) return;
  noted.calls++;
  noted.partitioner = partitioner;
  noted.topic = args.topic;
  noted.partitionMetadata = args.partitionMetadata;
  noted.message = args.message;
  noted.answer = answer;
}

/**
 * The accumulator each step gets: it reads as empty (`result[partition]` is undefined, so kafkajs's
 * `[...current, message]` copies nothing) and records the one property the step assigns instead of
 * keeping it, so a step allocates nothing here (a fresh object a step, and its keys, were ~2 KB a user).
 * Anything else done to it marks the step as not kafkajs's.
 */
class Step {
  key = '';
  value: unknown = undefined;
  sets = 0;
  unexpected = false;
  readonly accumulator: object;

  constructor() {
    const mark = () => {
      this.unexpected = true;
      return false;
    };
    this.accumulator = new Proxy(Object.create(null) as object, {
      get: (_t, key) => {
        if (typeof key !== 'string') this.unexpected = true;
        return undefined;
      },
      set: (_t, key, value) => {
        if (typeof key !== 'string') return mark();
        this.key = key;
        this.value = value;
        this.sets++;
        return true;
      },
      has: mark,
      deleteProperty: mark,
      defineProperty: mark,
      ownKeys: () => {
        this.unexpected = true;
        return [];
      },
      getOwnPropertyDescriptor: () => {
        this.unexpected = true;
        return undefined;
      },
      getPrototypeOf: () => {
        this.unexpected = true;
        return null;
      },
      setPrototypeOf: mark,
    });
  }

  reset(): void {
    this.key = '';
    this.value = undefined;
    this.sets = 0;
    this.unexpected = false;
  }
}

// one for the process: a grouping runs synchronously from start to end (kafkajs's step calls only the partitioner)
const step = new Step();

Object.defineProperty(PartitionGroupedMessages.prototype, 'reduce', {
  value: groupingReduce,
  writable: true,
  configurable: true,
});

function isEmptyPlainObject(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const _ in v) return false;
  return true;
}

function unknownStep(): FatalError {
  return new FatalError(
    'KAFKA_CLIENT_UNEXPECTED',
    "kafkajs's grouping of a send's messages by partition is not the one kafka/partition-grouping.ts was " +
      'written for (kafkajs 2.2.4): nothing was sent',
  );
}

/** An empty message list for a send, to push into (no copy of the messages). */
export function messageList(): Message[] {
  return new PartitionGroupedMessages();
}

/** A copy of `messages` for a send (the caller's array is left alone). */
export function groupedMessages(messages: readonly Message[]): Message[] {
  const out = new PartitionGroupedMessages();
  for (const m of messages) out.push(m);
  return out;
}
