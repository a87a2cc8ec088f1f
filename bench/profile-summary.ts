/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, as a
 * share of the sampled time and as µs per user when --users is given (a command, not a test).
 *
 *   node -r ts-node/register/transpile-only bench/profile-summary.ts FILE.cpuprofile [--users N] [--top N]
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortFile(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

function main(): void {
  const argv = process.argv.slice(2);
  const file = argv[0];
  const users = Number(argv[argv.indexOf('--users') + 1] ?? 0) || 0;
  const top = argv.includes('--top') ? Number(argv[argv.indexOf('--top') + 1]) : 25;
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Each sample's time is the delta to the next one (V8's own attribution).
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = shortFile(n.callFrame.url);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${f}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(f, (byFile.get(f) ?? 0) + us);
    total += us;
  }
  const idle = byFn.get('(idle) (native):0') ?? 0;
  const busy = total - idle;
  const line = (name: string, us: number) =>
    `| ${name} | ${((us / busy) * 100).toFixed(1)} % | ${users ? (us / users).toFixed(1) : '-'} |`;
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title}\n\n| | share of busy | µs/user |\n|---|---:|---:|\n`);
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .forEach(([k, us]) => process.stdout.write(line(k, us) + '\n'));
  };
  process.stdout.write(
    `${file}: busy ${(busy / 1e6).toFixed(2)} s` +
      (users ? `, ${(busy / users).toFixed(0)} µs/user` : '') +
      ` (idle ${(idle / 1e6).toFixed(2)} s)\n`,
  );
  print('self time by function', byFn);
  print('self time by file', byFile);
  print('inclusive time by function (itself and what it calls; a recursive function counted once)', inclusive(p));
}

/** Each sample's time added to every function on its stack (once per function per sample). */
function inclusive(p: Profile): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortFile(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const k = key(byId.get(id)!);
      if (k.startsWith('(root)') || k.startsWith('(idle)') || seen.has(k)) continue;
      seen.add(k);
      out.set(k, (out.get(k) ?? 0) + dt);
    }
  }
  return out;
}

main();
