import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { LiveIndex } from './live-index';

/**
 * A checkpoint of a live index as a load read it from its index topic (live-index-topic.ts): a
 * local file, a cache only. Kafka stays the source of truth: the next load takes the checkpoint,
 * reads the index topic from the checkpoint's last record on (which must still be there, the same
 * record, or the checkpoint is not used) and goes on exactly as a read from the topic's start
 * would, because applying an index record replaces what its key held (the latest record per key
 * decides, and compaction only removes records that a later one of their key replaces).
 *
 * Why: a routine run's time went mostly to loading the live indexes (issue 15; at 300k users 9.7 s
 * of 17.7, ~12 µs an entry, decoding each record and compacting its device), while what the last
 * run changed is a small part of them. Read back here, an entry is its bytes copied into the arena.
 *
 * The file, written whole to a temporary name and renamed over the last one:
 *
 *   MAGIC (8 bytes), u32 LE header length, the header (JSON, UTF-8),
 *   per arena entry: u8 key length, key, u16 LE value length, value (latin1 bytes, as held),
 *   TRAILER (4 bytes), u32 LE CRC-32 of every byte before it (the trailer's included).
 *
 * Anything else (another magic, a cut file, a wrong CRC, entries that do not add up, another
 * connector, index topic or org) is refused with the reason: the load reads the topic instead.
 */
const MAGIC = Buffer.from('SFNLIX\u0001\n', 'latin1');
const TRAILER = Buffer.from('END!', 'latin1');
const IO_BYTES = 1 << 20;

export interface CheckpointHeader {
  connector: string;
  /** The index topic the entries were read from. */
  indexTopic: string;
  /** The org the load applied the entries for (entries of other orgs are held apart: `foreign`). */
  orgId: string | null;
  /** The last record applied (its offset, a digest of its key and value): the next read starts there, checks it. */
  last: { offset: string; digest: string };
  /** The index topic's offset the read ended at (exclusive). */
  next: string;
  /** When the read began (ms since the epoch): every record after `last` was written later. */
  readAt: number;
  /** The watermark record's value as read (live-index-topic.ts Watermark), null when none was read. */
  mark: unknown;
}

interface FileHeader extends CheckpointHeader {
  /** LiveIndex.formatProbe() of the build that wrote it. */
  probe: string;
  entries: number;
  table: readonly string[];
  foreign: [string, string][];
  overflow: [string, string][];
}

/** Why a checkpoint was not used (a message for the log line). */
export class CheckpointRefused extends Error {
  override readonly name = 'CheckpointRefused';
}

/**
 * Writes `live` and `header` to `path` (through `path`.tmp, renamed over it). Synchronous: the
 * index must not change meanwhile, and it holds no copy of the entries (a buffer of 1 MiB).
 */
export function writeCheckpoint(path: string, header: CheckpointHeader, live: LiveIndex): void {
  const { users, table, foreign } = live.parts;
  const overflow = [...users.overflowEntries()];
  // the map's size counts the overflow's entries too: the rest are the arena's, forEachRaw's
  const entries = users.size - overflow.length;
  const file: FileHeader = {
    ...header,
    probe: LiveIndex.formatProbe(),
    entries,
    table,
    foreign: [...foreign],
    overflow,
  };
  sweep(path);
  // a name of its own: two loads of the same index at once (a dry run beside a run) never share a file
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFile(tmp, file, users);
    fs.renameSync(tmp, path);
  } catch (err) {
    // a full disk, a write that failed: no partial file is left behind (it holds users' Ids and devices)
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Temporary files of `path` an hour old: a write killed half way (SIGKILL, out of memory) left them. */
function sweep(path: string): void {
  const dir = nodePath.dirname(path);
  const prefix = `${nodePath.basename(path)}.`;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const stale = nodePath.join(dir, name);
    const written = fs.statSync(stale, { throwIfNoEntry: false })?.mtimeMs;
    if (written !== undefined && Date.now() - written > 3_600_000) fs.rmSync(stale, { force: true });
  }
}

function writeFile(tmp: string, file: FileHeader, users: LiveIndex['parts']['users']): void {
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    const out = new Output(fd);
    const json = Buffer.from(JSON.stringify(file), 'utf8');
    out.bytes(MAGIC, 0, MAGIC.length);
    out.u32(json.length);
    out.bytes(json, 0, json.length);
    users.forEachRaw((buf, keyAt, keyLength, valueAt, valueLength) => {
      out.room(3 + keyLength + valueLength);
      out.u8(keyLength);
      out.bytes(buf, keyAt, keyLength);
      out.u16(valueLength);
      out.bytes(buf, valueAt, valueLength);
    });
    out.bytes(TRAILER, 0, TRAILER.length);
    out.flush();
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(out.crc);
    fs.writeSync(fd, sum);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The index and header of the checkpoint at `path`, undefined when there is none; throws
 * CheckpointRefused when it is not a whole, unchanged checkpoint of `expect`.
 */
export function readCheckpoint(
  path: string,
  expect: Pick<CheckpointHeader, 'connector' | 'indexTopic' | 'orgId'>,
  /** The read buffer's size (a test reads with a few bytes, so an entry meets every buffer boundary). */
  ioBytes = IO_BYTES,
  /** Refuses (throws CheckpointRefused) on the header, before the entries are read. */
  check: (header: CheckpointHeader) => void = () => undefined,
): { header: CheckpointHeader; live: LiveIndex } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointRefused(`it cannot be opened (${(err as Error).message})`);
  }
  try {
    return readOpen(fd, expect, ioBytes, check);
  } catch (err) {
    // a checkpoint that cannot be read (EIO, a directory in its place) only costs the load its time
    if (err instanceof CheckpointRefused) throw err;
    throw new CheckpointRefused(`it cannot be read (${(err as Error).message})`);
  } finally {
    fs.closeSync(fd);
  }
}

function readOpen(
  fd: number,
  expect: Pick<CheckpointHeader, 'connector' | 'indexTopic' | 'orgId'>,
  ioBytes: number,
  check: (header: CheckpointHeader) => void,
): { header: CheckpointHeader; live: LiveIndex } {
  const input = new Input(fd, ioBytes);
  if (!input.take(MAGIC.length).equals(MAGIC)) throw new CheckpointRefused('it is not a checkpoint of this version');
  const size = fs.fstatSync(fd).size;
  const headerLength = input.u32();
  if (headerLength > size) throw new CheckpointRefused('its header is longer than the file');
  const header = parseHeader(input.take(headerLength).toString('utf8'));
  // each entry is at least 4 bytes: a header claiming more would only reserve memory for nothing
  if (header.entries * 4 > size) throw new CheckpointRefused('its header counts more entries than it can hold');
  for (const k of ['connector', 'indexTopic', 'orgId'] as const) {
    if (header[k] !== expect[k]) {
      throw new CheckpointRefused(`its ${k} is ${JSON.stringify(header[k])}, not ${JSON.stringify(expect[k])}`);
    }
  }
  if (header.probe !== LiveIndex.formatProbe()) {
    throw new CheckpointRefused('another build of the connector wrote it (its entries are held in another form)');
  }
  check(headerOf(header));
  let live: LiveIndex;
  try {
    live = LiveIndex.restore(header.table, header.foreign, header.overflow, header.entries, (users) => {
      for (let i = 0; i < header.entries; i++) {
        const keyLength = input.need(1)[input.at];
        const valueLength = input.need(3 + keyLength).readUInt16LE(input.at + 1 + keyLength);
        // `need` may move the unread bytes to the buffer's start: the entry's place is read after it
        const buf = input.need(3 + keyLength + valueLength);
        const at = input.at;
        users.setRaw(buf, at + 1, keyLength, at + 3 + keyLength, valueLength);
        input.skip(3 + keyLength + valueLength);
      }
    });
  } catch (err) {
    if (err instanceof CheckpointRefused) throw err;
    throw new CheckpointRefused(`its entries do not read back (${(err as Error).message})`);
  }
  try {
    if (!input.take(TRAILER.length).equals(TRAILER)) {
      throw new CheckpointRefused('its entries do not end where its header says');
    }
    const crc = input.crc;
    if (input.take(4).readUInt32LE(0) !== crc) throw new CheckpointRefused('its CRC does not match (a damaged file)');
    if (!input.atEnd()) throw new CheckpointRefused('it has bytes after its end');
  } catch (err) {
    live.dispose(); // its chunks are the next load's
    throw err;
  }
  return { header: headerOf(header), live };
}

function headerOf(h: FileHeader): CheckpointHeader {
  const { connector, indexTopic, orgId, last, next, mark, readAt } = h;
  return { connector, indexTopic, orgId, last, next, mark, readAt };
}

function parseHeader(text: string): FileHeader {
  let h: FileHeader;
  try {
    h = JSON.parse(text) as FileHeader;
  } catch {
    throw new CheckpointRefused('its header is not JSON');
  }
  const strings = (a: unknown) => Array.isArray(a) && a.every((s) => typeof s === 'string');
  const pairs = (a: unknown) => Array.isArray(a) && a.every((p) => Array.isArray(p) && p.length === 2 && strings(p));
  const offset = (s: unknown) => typeof s === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(s);
  const ok =
    h !== null &&
    typeof h === 'object' &&
    typeof h.connector === 'string' &&
    typeof h.indexTopic === 'string' &&
    (h.orgId === null || typeof h.orgId === 'string') &&
    typeof h.last === 'object' &&
    h.last !== null &&
    offset(h.last.offset) &&
    typeof h.last.digest === 'string' &&
    typeof h.probe === 'string' &&
    offset(h.next) &&
    Number.isSafeInteger(h.readAt) &&
    Number.isSafeInteger(h.entries) &&
    h.entries >= 0 &&
    strings(h.table) &&
    pairs(h.foreign) &&
    pairs(h.overflow);
  if (!ok) throw new CheckpointRefused('its header lacks a field or has one of the wrong type');
  return h;
}

/** Bytes out to a file through one buffer, with their running CRC-32. */
class Output {
  private readonly buf = Buffer.allocUnsafe(IO_BYTES);
  private at = 0;
  crc = 0;

  constructor(private readonly fd: number) {}

  room(n: number): void {
    if (this.at + n > this.buf.length) this.flush();
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.at = this.buf.writeUInt16LE(v, this.at);
  }

  u32(v: number): void {
    this.room(4);
    this.at = this.buf.writeUInt32LE(v, this.at);
  }

  bytes(src: Buffer, from: number, length: number): void {
    if (length > this.buf.length) {
      this.flush();
      this.write(src.subarray(from, from + length));
      return;
    }
    this.room(length);
    src.copy(this.buf, this.at, from, from + length);
    this.at += length;
  }

  flush(): void {
    if (this.at > 0) this.write(this.buf.subarray(0, this.at));
    this.at = 0;
  }

  private write(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
    for (let done = 0; done < bytes.length;) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
  }
}

/**
 * Bytes in from a file through one buffer (grown for a longer run of bytes), with the CRC-32 of
 * those consumed (summed a window at a time: a native call an entry cost ~0.2 µs each).
 */
class Input {
  buf: Buffer;
  at = 0;
  private end = 0;
  private eof = false;
  private sum = 0;
  /** Bytes of `buf` before this are in `sum`. */
  private summed = 0;

  constructor(
    private readonly fd: number,
    size: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** The CRC-32 of every byte consumed so far. */
  get crc(): number {
    this.sum = crc32(this.buf.subarray(this.summed, this.at), this.sum);
    this.summed = this.at;
    return this.sum;
  }

  /** Makes `n` bytes available at `at`; throws CheckpointRefused when the file ends first. */
  need(n: number): Buffer {
    if (this.end - this.at >= n) return this.buf;
    void this.crc;
    const held = this.end - this.at;
    const size = Math.max(this.buf.length, n);
    const next = size === this.buf.length ? this.buf : Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.at, this.end);
    this.buf = next;
    this.at = this.summed = 0;
    this.end = held;
    while (this.end < n && !this.eof) {
      const read = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (read === 0) this.eof = true;
      this.end += read;
    }
    if (this.end < n) throw new CheckpointRefused('it is cut short');
    return this.buf;
  }

  skip(n: number): void {
    this.at += n;
  }

  take(n: number): Buffer {
    this.need(n);
    const out = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.skip(n);
    return out;
  }

  u32(): number {
    return this.take(4).readUInt32LE(0);
  }

  atEnd(): boolean {
    if (this.at < this.end) return false;
    if (this.eof) return true;
    return fs.readSync(this.fd, Buffer.alloc(1), 0, 1, null) === 0;
  }
}
