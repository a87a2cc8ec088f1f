import type { SnapshotReadState } from './run-stream';

/**
 * A snapshot stream's read state (run-stream.ts: its watermark, last full read, shape) travels in
 * the run-state record's streamWatermarks map, as the users' does (state-codec.ts), under
 * `<stream>#<part>` keys: a stream name has no `#`, so no incremental stream's watermark collides,
 * and state written before reads as "never recorded" (a full read).
 */
const PARTS = ['watermark', 'fullReadAt', 'shape'] as const;

const keyOf = (stream: string, part: (typeof PARTS)[number]) => `${stream}#${part}`;

/** The stream's read state in the committed map, or null when any part is missing. */
export function snapshotReadState(
  marks: Readonly<Record<string, number>> | null,
  stream: string,
): SnapshotReadState | null {
  const [watermark, fullReadAt, shape] = PARTS.map((p) => marks?.[keyOf(stream, p)]);
  return [watermark, fullReadAt, shape].every((v) => typeof v === 'number' && Number.isFinite(v))
    ? { watermark: watermark!, fullReadAt: fullReadAt!, shape: shape! }
    : null;
}

/** The map with the stream's read state set (or removed: null, the next read is a full one). */
export function withSnapshotReadState(
  marks: Readonly<Record<string, number>> | null,
  stream: string,
  state: SnapshotReadState | null,
): Record<string, number> {
  const out = { ...marks };
  for (const p of PARTS) {
    if (state) out[keyOf(stream, p)] = state[p];
    else delete out[keyOf(stream, p)];
  }
  return out;
}
