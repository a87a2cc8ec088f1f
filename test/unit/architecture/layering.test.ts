import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The import graph of the product, derived from the sources (not declared anywhere else), against
 * the layers the folder READMEs describe. Bottom to top: a folder imports only folders of a
 * lower rank (and itself). Peers of one rank do not import each other, so that, e.g., the
 * Salesforce connector never learns about the simulator that stands in for Salesforce.
 */
const LAYERS: Record<string, number> = {
  kernel: 0, // errors, logging, retry, redaction, the off-heap map: imports nothing of ours
  schemas: 1, // the topic contract: Avro schemas, mappings, topic names and headers, codecs
  kafka: 2, // the Kafka client, options and topic provisioning
  connectors: 2, // sources: Salesforce
  simulator: 2, // the Salesforce API simulator (shipped for the demo and `connector simulator`)
  sinks: 3, // the sink port and its implementations (PostgreSQL)
  pipeline: 4, // the orchestrator: config, runs, schedule, observability
  devstack: 4, // local Kafka, registry and PostgreSQL for the demo and the tests
  bin: 5, // the CLI and the demo
};
/** Development-only folders: they may import anything, and nothing in the product imports them. */
const DEV_ONLY = new Set(['test', 'bench', 'containers']);

const ROOT = path.resolve(__dirname, '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined; // a package
  const base = path.join(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    const abs = path.join(ROOT, candidate);
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return path.normalize(candidate);
  }
  return undefined; // .json, .avsc, ...: data, not modules
}

interface Edge {
  from: string;
  to: string;
}

function importGraph(): { files: string[]; edges: Edge[] } {
  const files = [...Object.keys(LAYERS), ...DEV_ONLY].flatMap(sourceFiles);
  const edges = files.flatMap((from) => {
    const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, from), 'utf8'), true, true);
    return info.importedFiles.flatMap((f) => {
      const to = resolveImport(from, f.fileName);
      return to === undefined ? [] : [{ from, to }];
    });
  });
  return { files, edges };
}

const topFolder = (file: string) => file.split(path.sep)[0];

/** Tarjan's strongly connected components: every component of more than one file is a cycle. */
function cycles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

/** Imports of a product module from a test, a benchmark or a container script. */
function testImports(edges: readonly Edge[]): Edge[] {
  return edges.filter((e) => !DEV_ONLY.has(topFolder(e.from)) && DEV_ONLY.has(topFolder(e.to)));
}

/** Imports of a folder of the same or a higher layer (a peer included), or of a folder no layer names. */
function upwardImports(edges: readonly Edge[]): Edge[] {
  return edges.filter((e) => {
    const a = topFolder(e.from);
    const b = topFolder(e.to);
    if (a === b || DEV_ONLY.has(a)) return false;
    return !(b in LAYERS) || LAYERS[b] >= LAYERS[a];
  });
}

describe('the layers (derived from the imports of every .ts file)', () => {
  const { files, edges } = importGraph();

  it('sees the product: every folder of a layer has modules, and imports were found', () => {
    for (const folder of Object.keys(LAYERS)) expect(files.some((f) => topFolder(f) === folder)).toBe(true);
    expect(edges.length).toBeGreaterThan(500);
  });

  it('no product module imports a test, a benchmark or a container script', () => {
    expect(testImports(edges).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('no module imports a folder of its own or a higher layer (peers included)', () => {
    const bad = upwardImports(edges);
    expect(bad.map((e) => `${e.from} (${topFolder(e.from)}) -> ${e.to} (${topFolder(e.to)})`)).toEqual([]);
  });

  it('no import cycles between product modules', () => {
    const product = files.filter((f) => !DEV_ONLY.has(topFolder(f)));
    const productEdges = edges.filter((e) => !DEV_ONLY.has(topFolder(e.from)));
    expect(cycles(product, productEdges)).toEqual([]);
  });

  it('the checks can fail: the same functions find planted faults in a made-up graph', () => {
    const made = ['kernel/a.ts', 'kernel/b.ts', 'pipeline/c.ts', 'test/d.ts'];
    const planted: Edge[] = [
      { from: 'kernel/a.ts', to: 'pipeline/c.ts' }, // upward
      { from: 'connectors/x.ts', to: 'simulator/y.ts' }, // a peer
      { from: 'kernel/a.ts', to: 'kernel/b.ts' }, // same folder: allowed, but a cycle with the next
      { from: 'kernel/b.ts', to: 'kernel/a.ts' },
      { from: 'pipeline/c.ts', to: 'test/d.ts' }, // product importing a test
      { from: 'test/d.ts', to: 'pipeline/c.ts' }, // a test importing the product: allowed
    ];
    expect(upwardImports(planted).map((e) => e.to)).toEqual(['pipeline/c.ts', 'simulator/y.ts', 'test/d.ts']);
    expect(testImports(planted)).toEqual([{ from: 'pipeline/c.ts', to: 'test/d.ts' }]);
    expect(cycles(made, planted).sort()).toEqual([
      ['kernel/a.ts', 'kernel/b.ts'],
      ['pipeline/c.ts', 'test/d.ts'],
    ]);
  });
});
