import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertServerCanReach } from '../../../sinks/postgres/embedded';

// As root the embedded server runs as the postgres user: a checkout (its binaries) or a data directory
// under a directory others cannot search (mktemp -d makes 0700 ones) failed with a bare EACCES from spawn.
describe('assertServerCanReach', () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-'));
  afterAll(() => fs.rmSync(top, { recursive: true, force: true }));

  it('names the first directory the server user cannot search, what it is for, and the fix', () => {
    const closed = path.join(top, 'closed');
    const bin = path.join(closed, 'x', 'node_modules', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.chmodSync(top, 0o755);
    fs.chmodSync(closed, 0o700);
    expect(() => assertServerCanReach(bin, 'the PostgreSQL binaries')).toThrow(
      `${closed} is not searchable by the postgres user the server runs as (root), so it cannot reach ` +
        `the PostgreSQL binaries at ${bin}: make it searchable (chmod o+x ${closed}) or use another directory`,
    );
  });

  it('passes when every directory above is searchable by others', () => {
    const open = path.join(top, 'open', 'bin');
    fs.mkdirSync(open, { recursive: true });
    fs.chmodSync(top, 0o755);
    fs.chmodSync(path.join(top, 'open'), 0o755);
    expect(() => assertServerCanReach(open, 'the PostgreSQL binaries')).not.toThrow();
  });
});
