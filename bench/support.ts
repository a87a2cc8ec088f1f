import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Admin } from 'kafkajs';
import type { ConnectorSettings } from '../pipeline/connector';
import { DEFAULT_DELETION_GUARD } from '../pipeline/guard';
import { DEFAULT_PUBLISHER, type PublisherOptions } from '../pipeline/kafka/publisher';
import { registryClient } from '../schemas/registry-client';
import { GENERIC_STREAMS } from '../schemas/streams/generic';
import { passwordAuth } from '../simulator/api';
import { STATE_FILE, type StartedService } from '../devstack/services';
import { imageEnv, IMAGE_MALLOC, IMAGE_NODE_ARGS } from './image-flags';

/** Shared pieces of the benchmark scripts: child processes and their figures. */
export const ROOT = path.resolve(__dirname, '..');
export const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

export interface SimHandle {
  url: string;
  credentials: {
    consumerKey: string;
    consumerSecret: string;
    username: string;
    password: string;
    securityToken: string;
  };
  child: ChildProcess;
  stop(): Promise<void>;
  /** Edits `share` of the users (bench/sim-process.ts, `controllable` only); resolves with how many. */
  change(share: number, seed: number): Promise<number>;
}

/**
 * Starts the Salesforce simulator in a process of its own (its memory and CPU are not the
 * connector's) and waits for it to print its URL. `compiled`: from the build in dist/.
 */
export async function spawnSimulator(
  users: number,
  logins: number,
  now = new Date().toISOString(),
  opts: { compiled?: boolean; controllable?: boolean; root?: string } = {},
): Promise<SimHandle> {
  const script = opts.controllable ? 'bench/sim-process' : 'simulator/cli';
  // root: another checkout's simulator (its dist/), e.g. a side-by-side figure of a simulator change
  const entry = opts.compiled
    ? [path.join(opts.root ?? ROOT, `dist/${script}.js`)]
    : [...TS_NODE, path.join(ROOT, `${script}.ts`)];
  const args = opts.controllable
    ? [String(users), String(logins), now]
    : ['--users', String(users), '--logins', String(logins), '--now', now];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    stdio: [opts.controllable ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  const info = await firstJsonLine<{ url: string; credentials: SimHandle['credentials'] }>(child);
  return {
    ...info,
    child,
    change: async (share, seed) => {
      if (!opts.controllable) throw new Error('spawnSimulator: change() needs { controllable: true }');
      const answer = firstJsonLine<{ changed: number }>(child);
      child.stdin!.write(JSON.stringify({ change: share, seed }) + '\n');
      return (await answer).changed;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resolves with the first line of the child's stdout that parses as JSON. */
export function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        resolve(JSON.parse(line) as T);
        lines.close();
      } catch {
        // not the JSON line yet
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing its JSON line`)));
  });
}

/** Runs a child to completion; resolves with its stdout. */
export function runChild(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(cmd)} exited ${code}:\n${out.slice(-2000)}`)),
    );
  });
}

/** Peak resident memory of this process so far, in MB (getrusage maxrss). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A benchmark role (bench/roles.ts) running from the compiled build in a process of its own. */
export interface RoleProcess {
  pid: number;
  /** The role's next JSON line; rejects when it exits first. */
  next<T>(): Promise<T>;
  /** Writes a line to the role's stdin. */
  send(line: string): void;
  /** Ends the role at once if it is still running (a failed benchmark leaves nothing behind). */
  kill(): void;
  /** Resolves when the role has exited by itself (after its figures; a --cpu-prof profile is written then). */
  exited(): Promise<void>;
}

/** BENCH_ROLES: another build's roles.js (e.g. the code before a change, for a side-by-side figure). */
export const DIST_ROLES = process.env.BENCH_ROLES ?? path.join(ROOT, 'dist', 'bench', 'roles.js');

/**
 * How every role spawnRole starts runs: as the image runs the product (bench/image-flags.ts: V8's
 * 2 x 4 MB semi-spaces and glibc's malloc variables), so a peak RSS printed is the product's. Before
 * session 20 only the routine benches did, and the pipeline bench took them from the caller's
 * environment: session 19's 1M run, started without them, printed every process ~40-50 MB above
 * session 17's, the sink's and the extract role's too, whose code had not changed.
 * BENCH_NODE_FLAGS=defaults runs them with Node's and glibc's defaults instead (named so in the
 * report); any other value is refused. Not spawnRole's: bench/sink.ts and bench/extract.ts start
 * their processes with BENCH_NODE_ARGS only, and the simulator runs with Node's defaults.
 */
export const ROLE_IMAGE_FLAGS = ((): boolean => {
  const v = process.env.BENCH_NODE_FLAGS;
  if (v !== undefined && v !== 'defaults' && v !== 'image')
    throw new Error(`BENCH_NODE_FLAGS=${v}: "image" (the default) or "defaults" (Node's and glibc's own)`);
  return v !== 'defaults';
})();

const MALLOC_VARIABLES = Object.keys(IMAGE_MALLOC);

/** The roles' runtime as the report names it: what the child really gets (spawnRole), a caller's own
 *  values named as such. */
export function roleRuntime(): string {
  const extra = process.env.BENCH_NODE_ARGS?.trim();
  const added = extra ? `, then BENCH_NODE_ARGS "${extra}" (the last of a repeated flag wins)` : '';
  if (!ROLE_IMAGE_FLAGS) {
    const own = [...MALLOC_VARIABLES, 'NODE_OPTIONS'].filter((k) => process.env[k] !== undefined);
    const kept = own.length ? ` but the caller's ${own.map((k) => `${k}=${process.env[k]}`).join(' ')}` : '';
    return `Node's and glibc's defaults (BENCH_NODE_FLAGS=defaults)${kept}${added}`;
  }
  const malloc = Object.entries(IMAGE_MALLOC).map(([k, v]) => {
    const own = process.env[k];
    return own === undefined || own === v ? `${k}=${v}` : `${k}=${own} (the caller's; the image's ${v})`;
  });
  return `the image's flags (${[...IMAGE_NODE_ARGS, ...malloc].join(' ')})${added}`;
}

/** BENCH_NODE_ARGS: flags for the roles' node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the
 *  time goes, after the image's (ROLE_IMAGE_FLAGS). */
export function spawnRole(
  role: string,
  settings: unknown,
  root?: string,
  opts: { image?: boolean } = { image: ROLE_IMAGE_FLAGS },
): RoleProcess {
  const nodeArgs = [
    ...(opts.image ? IMAGE_NODE_ARGS : []),
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  // another checkout's build (a before/after comparison): its dist/bench/roles.js
  const roles = root ? path.join(path.resolve(root), 'dist', 'bench', 'roles.js') : DIST_ROLES;
  const child = spawn(process.execPath, [...nodeArgs, roles, role, JSON.stringify(settings)], {
    cwd: root ? path.resolve(root) : ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: opts.image ? imageEnv() : process.env,
  });
  const queued: unknown[] = [];
  const waiting: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  let exited: Error | null = null;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return; // not one of the role's JSON lines
    }
    const w = waiting.shift();
    if (w) w.resolve(value);
    else queued.push(value);
  });
  // 'close', not 'exit': a child's last lines may still be in its stdout pipe when it exits.
  child.once('close', (code, signal) => {
    exited = new Error(`bench role ${role} exited (${code ?? signal}) before printing its figures`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  return {
    pid: child.pid!,
    next: <T>() =>
      new Promise<T>((resolve, reject) => {
        if (queued.length > 0) return resolve(queued.shift() as T);
        if (exited) return reject(exited);
        waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      }),
    send: (line) => child.stdin!.write(line + '\n'),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    exited: () => closed,
  };
}

/** Peak resident memory of a running process (Linux VmHWM), in MB; null when it cannot be read. */
export function peakRssOfPid(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) used so far by a process and its descendants, live or ended and
 * waited for (Linux /proc; PostgreSQL's work is done by its backends, children of the
 * postmaster). Null when unreadable.
 */
export function cpuSecondsOfTree(root: number): number | null {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from "state" on
      // utime + stime, and cutime + cstime: children that ended (a closed backend) count for their parent
      stats.set(Number(entry), {
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      });
    } catch {
      // the process ended while we looked
    }
  }
  if (!stats.has(root)) return null;
  let ticks = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === pid) pending.push(child);
  }
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: the unit of /proc/<pid>/stat times, 100 on Linux for every architecture in use. */
const CLOCK_TICKS = 100;

/** The run's registry subjects, soft then hard deleted: a shared registry lists at most 1,000. */
export async function deleteBenchSubjects(registryUrl: string, prefix: string): Promise<void> {
  const client = registryClient({ url: registryUrl });
  const subjects = await client.subjects().catch(() => [] as string[]);
  for (const s of subjects.filter((x) => x.startsWith(prefix))) {
    await client.deleteSubject(s).catch(() => undefined);
    await client.deleteSubject(s, { permanent: true }).catch(() => undefined);
  }
}

export async function deleteBenchTopics(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
}

/**
 * A bench connector's settings: its own topics (the declared streams' too: their default topics are
 * shared by every run on this machine, and a run reads its streams' topics whole, other runs'
 * records included), the simulator's password flow, generous job timeouts.
 */
export function benchSettings(o: {
  name: string;
  simUrl: string;
  credentials: SimHandle['credentials'];
  brokers: string;
  registryUrl: string;
  parallelPages: number;
  partitions: number;
  publisher?: PublisherOptions;
  /** Where the connector keeps its live indexes' checkpoints (as the compose stack does); unset: none. */
  indexCheckpointDir?: string;
}): ConnectorSettings {
  const { name } = o;
  return {
    connectorName: name,
    salesforce: {
      loginUrl: o.simUrl,
      auth: passwordAuth(o.credentials),
      loginLookbackDays: 400,
      parallelPages: o.parallelPages,
      pollInitialMs: 100,
      pollMaxMs: 500,
      jobTimeoutMs: 30 * 60_000,
      apiBudgetShare: 1,
    },
    kafka: { brokers: [o.brokers], clientId: name },
    registry: { url: o.registryUrl },
    topics: {
      users: `${name}.users`,
      logins: `${name}.logins`,
      state: `${name}.state`,
      deadLetter: `${name}.dlq`,
      streams: Object.fromEntries(GENERIC_STREAMS.map((d) => [d.name, `${name}.${d.name}`])),
    },
    topicSettings: { partitions: o.partitions, loginRetentionMs: 7 * 24 * 3600 * 1000 },
    guard: DEFAULT_DELETION_GUARD,
    publisher: o.publisher ?? DEFAULT_PUBLISHER,
    ...(o.indexCheckpointDir ? { indexCheckpointDir: o.indexCheckpointDir } : {}),
  };
}

/**
 * What the kernel says the process's resident memory is made of (Linux only; empty elsewhere):
 * /proc/self/status's split (anonymous, file-backed, shared) and /proc/self/smaps's anonymous mappings
 * grouped by what they most likely are. process.memoryUsage() only sees V8's heap and ArrayBuffers;
 * this names the rest (glibc's arenas, the brk heap, the code).
 */
export interface ProcMemory {
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  /** The brk heap: glibc's main malloc arena. */
  brkHeap: number;
  /** Anonymous mappings in 64 MiB-aligned blocks of at most 64 MiB: glibc's thread arenas. */
  threadArenas: number;
  threadArenaCount: number;
  /** Other anonymous mappings of at least 1 MiB resident (V8's spaces, large malloc/mmap blocks). */
  largeAnon: number;
  /** Every other anonymous mapping (V8's 256 KiB pages, stacks, small mmaps). */
  otherAnon: number;
}

const MIB = 1048576;
const ARENA = 64 * MIB;

/** MB figures of /proc/self/status and /proc/self/smaps now; undefined where /proc is not there. */
export function procMemory(): ProcMemory | undefined {
  let status: string;
  let smaps: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'latin1');
    smaps = fs.readFileSync('/proc/self/smaps', 'latin1');
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const m: ProcMemory = {
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    rssShmem: kb('RssShmem'),
    brkHeap: 0,
    threadArenas: 0,
    threadArenaCount: 0,
    largeAnon: 0,
    otherAnon: 0,
  };
  // A mapping's header line, then its fields; an anonymous one has inode 0 and no path (or [heap]/[stack]).
  const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/;
  let cur: { start: number; size: number; anon: boolean; name: string } | undefined;
  for (const line of smaps.split('\n')) {
    const h = header.exec(line);
    if (h) {
      const start = parseInt(h[1], 16);
      cur = { start, size: parseInt(h[2], 16) - start, anon: h[3] === '0', name: h[4] };
      continue;
    }
    if (!cur || !line.startsWith('Rss:')) continue;
    const rss = Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
    if (!cur.anon || rss === 0) continue;
    if (cur.name === '[heap]') m.brkHeap += rss;
    else if (cur.name === '' && cur.start % ARENA === 0 && cur.size <= ARENA) {
      m.threadArenas += rss;
      m.threadArenaCount++;
    } else if (cur.name === '' && rss >= MIB) m.largeAnon += rss;
    else m.otherAnon += rss;
  }
  const mb = (n: number) => Math.round(n / MIB);
  return {
    ...m,
    rssAnon: Math.round(m.rssAnon / 1024),
    rssFile: Math.round(m.rssFile / 1024),
    rssShmem: Math.round(m.rssShmem / 1024),
    brkHeap: mb(m.brkHeap),
    threadArenas: mb(m.threadArenas),
    largeAnon: mb(m.largeAnon),
    otherAnon: mb(m.otherAnon),
  };
}

/** The local servers' pids: the ones this run started, else the ones `npm run services:start` recorded. */
export function serverPids(started: StartedService[]): Record<string, number> {
  const recorded = fs.existsSync(STATE_FILE)
    ? (JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as StartedService[])
    : [];
  const pids: Record<string, number> = {};
  for (const s of [...recorded, ...started]) pids[s.name.replace(/ \(.*\)$/, '')] = s.pid;
  return pids;
}
