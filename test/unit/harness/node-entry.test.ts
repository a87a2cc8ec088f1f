import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILD_STAMP, isDistCurrent } from '../../../devstack/build-stamp';
import { nodeEntry } from '../../support/node-entry';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const BUILD_MS = 2_000_000;
const at = (p: string, ms: number) => fs.utimesSync(p, ms / 1000, ms / 1000);

/**
 * A checkout in a temp dir built by `npm run build` at BUILD_MS: tsconfig.json, sources under its
 * include (a folder and a file), files it does not include, and the stamp; every source and
 * directory written before the build.
 */
function built(include: unknown = ['lib', 'jest.config.ts']): { root: string; touch(rel: string, ms: number): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'node-entry-'));
  made.push(root);
  const touch = (rel: string, ms: number) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '//');
    at(file, ms);
  };
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ include }));
  for (const rel of ['lib/a.ts', 'lib/deep/b.ts', 'lib/data.json', 'jest.config.ts', 'lib/node_modules/x/i.ts'])
    touch(rel, BUILD_MS - 1000);
  touch('other/not-included.ts', BUILD_MS + 5000);
  for (const dir of ['lib/deep', 'lib/node_modules/x', 'lib/node_modules', 'lib', '.'])
    at(path.join(root, dir), BUILD_MS - 1000);
  at(path.join(root, 'tsconfig.json'), BUILD_MS - 1000);
  fs.mkdirSync(path.join(root, 'dist'));
  fs.writeFileSync(path.join(root, BUILD_STAMP), JSON.stringify({ startedMs: BUILD_MS }));
  return { root, touch };
}

describe('isDistCurrent: dist/ only when it is a build of every current source', () => {
  it('is true when everything the build reads is older than its start', () => {
    expect(isDistCurrent(built().root)).toBe(true);
  });

  it.each(['lib/a.ts', 'lib/deep/b.ts', 'lib/data.json', 'jest.config.ts', 'tsconfig.json'])(
    'is false once %s is written when the build began or later',
    (rel) => {
      const c = built();
      const file = path.join(c.root, rel);
      at(file, BUILD_MS); // saved in the instant the build began: tsc may have read it before
      expect(isDistCurrent(c.root)).toBe(false);
    },
  );

  it('is false after a source is added, deleted or renamed (its directory changes)', () => {
    const added = built();
    added.touch('lib/deep/new.ts', BUILD_MS - 5000); // an old file copied in: the directory is new
    expect(isDistCurrent(added.root)).toBe(false);
    for (const change of [
      (root: string) => fs.rmSync(path.join(root, 'lib/deep/b.ts')),
      (root: string) => fs.renameSync(path.join(root, 'lib/a.ts'), path.join(root, 'lib/c.ts')),
    ]) {
      const c = built();
      change(c.root);
      expect(isDistCurrent(c.root)).toBe(false);
    }
  });

  it('ignores what the build does not read: node_modules, folders outside include', () => {
    const c = built();
    c.touch('lib/node_modules/x/i.ts', BUILD_MS + 9000);
    at(path.join(c.root, 'lib/node_modules'), BUILD_MS - 1000);
    expect(isDistCurrent(c.root)).toBe(true);
  });

  it('is false without a stamp (never built, tsc failed), with a damaged one, or an include it cannot follow', () => {
    const c = built();
    fs.rmSync(path.join(c.root, BUILD_STAMP));
    expect(isDistCurrent(c.root)).toBe(false);
    const d = built();
    fs.writeFileSync(path.join(d.root, BUILD_STAMP), '{"startedMs":');
    expect(isDistCurrent(d.root)).toBe(false);
    expect(isDistCurrent(built(['lib/**/*']).root)).toBe(false);
    expect(isDistCurrent(built('lib').root)).toBe(false);
  });
});

describe('nodeEntry', () => {
  it('refuses anything but an existing .ts file of this checkout', () => {
    expect(() => nodeEntry('/etc/passwd.ts')).toThrow(/not a \.ts file of this checkout/);
    expect(() => nodeEntry('bin/connector.js')).toThrow(/not a \.ts file of this checkout/);
    expect(() => nodeEntry('bin/no-such-entry.ts')).toThrow(/not a \.ts file of this checkout/);
  });

  it('gives the compiled entry with source maps, or ts-node and the source', () => {
    const args = nodeEntry('bin/connector.ts');
    const compiled = args.length === 2 && args[1].endsWith(path.join('dist', 'bin', 'connector.js'));
    const source = args.length === 3 && args[0] === '-r' && args[2].endsWith(path.join('bin', 'connector.ts'));
    expect(compiled || source).toBe(true);
  });
});
