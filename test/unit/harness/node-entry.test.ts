import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDistCurrent, nodeEntry } from '../../support/node-entry';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A checkout in a temp dir: tsconfig.json's include, sources and their build, with chosen times. */
function checkout(): { root: string; write(rel: string, at: number): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'node-entry-'));
  made.push(root);
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ include: ['lib', 'bin', 'jest.config.ts'] }));
  return {
    root,
    write(rel, at) {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '//');
      fs.utimesSync(file, at, at);
    },
  };
}

/** Sources at time 1000, their build at 2000. */
function built(): { root: string; write(rel: string, at: number): void } {
  const c = checkout();
  for (const [src, out] of [
    ['lib/a.ts', 'dist/lib/a.js'],
    ['lib/deep/b.ts', 'dist/lib/deep/b.js'],
    ['bin/cli.ts', 'dist/bin/cli.js'],
    ['jest.config.ts', 'dist/jest.config.js'],
    ['lib/data.json', 'dist/lib/data.json'],
  ]) {
    c.write(src, 1000);
    c.write(out, 2000);
  }
  c.write('lib/types.d.ts', 1000);
  c.write('lib/node_modules/x/index.ts', 3000); // not a source of the build
  c.write('other/ignored.ts', 3000); // not in include
  return c;
}

describe('isDistCurrent: the compiled entry only when dist/ holds the build of every current source', () => {
  it('is true for a build newer than every source', () => {
    expect(isDistCurrent(built().root)).toBe(true);
  });

  it.each(['lib/a.ts', 'lib/deep/b.ts', 'bin/cli.ts', 'jest.config.ts', 'lib/data.json'])(
    'is false once %s is edited after the build',
    (src) => {
      const c = built();
      c.write(src, 2500);
      expect(isDistCurrent(c.root)).toBe(false);
    },
  );

  it('is false for a new source the build has not seen, and for a missing dist/', () => {
    const c = built();
    c.write('lib/new.ts', 1500);
    expect(isDistCurrent(c.root)).toBe(false);
    const d = built();
    fs.rmSync(path.join(d.root, 'dist'), { recursive: true });
    expect(isDistCurrent(d.root)).toBe(false);
  });

  it('is true when one output was written at the same instant as its source', () => {
    const c = built();
    c.write('lib/a.ts', 2000);
    expect(isDistCurrent(c.root)).toBe(true);
  });
});

describe('nodeEntry', () => {
  it('refuses anything but a .ts file of this checkout', () => {
    expect(() => nodeEntry('/etc/passwd.ts')).toThrow(/not a \.ts file of this checkout/);
    expect(() => nodeEntry('bin/connector.js')).toThrow(/not a \.ts file of this checkout/);
  });

  it('gives the compiled entry or ts-node and the source', () => {
    const args = nodeEntry('bin/connector.ts');
    const compiled = args.length === 1 && args[0].endsWith(path.join('dist', 'bin', 'connector.js'));
    const source = args.length === 3 && args[0] === '-r' && args[2].endsWith(path.join('bin', 'connector.ts'));
    expect(compiled || source).toBe(true);
  });
});
