import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createLogger } from '../../../kernel/logger';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('the logger (pino)', () => {
  const collect = (level: 'debug' | 'info' | 'warn' = 'info') => {
    const lines: string[] = [];
    return {
      lines,
      log: createLogger({
        level,
        secrets: ['s3cret-value'],
        fields: { connector: 'acme' },
        write: (l) => lines.push(l),
      }),
    };
  };

  it('writes one JSON object per line: ISO time, level name, message, bound and given fields', () => {
    const { lines, log } = collect();
    log.child({ runId: 'r1' }).info('run started', { users: 3 });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      connector: 'acme',
      runId: 'r1',
      users: 3,
      msg: 'run started',
    });
  });

  it('drops lines below its level', () => {
    const { lines, log } = collect('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['warn', 'error']);
  });

  it('masks secret-looking fields and removes known secrets from messages, fields and bindings', () => {
    const { lines, log } = collect();
    log
      .child({ note: 'bound s3cret-value' })
      .error('failed with s3cret-value', { password: 'p', url: 'https://x/?k=s3cret-value', nested: { token: 't' } });
    expect(lines[0]).not.toContain('s3cret-value');
    expect(JSON.parse(lines[0])).toMatchObject({ password: '***', nested: { token: '***' }, msg: 'failed with ***' });
  });

  it('prints readable lines on a terminal (LOG_FORMAT=pretty), still scrubbed', () => {
    const script =
      "require('./kernel/logger').createLogger({ secrets: ['s3cret-value'] }).warn('hello s3cret-value', { n: 1 })";
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, LOG_FORMAT: 'pretty' },
      encoding: 'utf8',
    });
    expect(r.stderr).toMatch(/WARN.*hello \*\*\*/);
    expect(r.stderr).toContain('n: 1');
    expect(r.stderr).not.toContain('{"level"');
  });
});

describe('bound fields', () => {
  it('a child binding a key again replaces it: each key appears once per line', () => {
    const lines: string[] = [];
    createLogger({ fields: { connector: 'acme' }, write: (l) => lines.push(l) })
      .child({ connector: 'acme', runId: 'r' })
      .child({ runId: 'r2' })
      .info('x');
    expect(lines[0].match(/"connector"/g)).toHaveLength(1);
    expect(lines[0].match(/"runId"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ connector: 'acme', runId: 'r2' });
  });
});
