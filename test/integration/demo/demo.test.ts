import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { nodeEntry } from '../../support/node-entry';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `npm run demo`, the README's main job, at a small size: it succeeds, and a successful demo
 * prints no error or warning line (kafkajs's retried start-up errors and its partitioner notice
 * included). Its own summary lines are checked against the simulator's numbers by the demo itself.
 */
describe('the demo', () => {
  it('succeeds and prints no error or warning line', async () => {
    const child = spawn(process.execPath, [...nodeEntry('bin/demo.ts'), '--users', '300', '--logins', '1500'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toContain('the tombstone removed');
    const bad = out.split('\n').filter((line) => /"level":"(warn|error)"|\b(WARN|ERROR|Warning|warning)\b/.test(line));
    expect(bad).toEqual([]);
  }, 300_000);
});
