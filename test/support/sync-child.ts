/**
 * Runs one sync in a process of its own, so a test can SIGKILL it mid-run.
 * Usage: node -r ts-node/register/transpile-only test/support/sync-child.ts <settings.json>
 * Prints the run summary as JSON on stdout; exits 0 when the run succeeded.
 */
import * as fs from 'node:fs';
import { createLogger } from '../../kernel/logger';
import { startConnector, type ConnectorSettings } from '../../pipeline/connector';

async function main(): Promise<void> {
  const settings = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as ConnectorSettings;
  const connector = await startConnector(settings, { logger: createLogger({ level: 'warn' }) });
  try {
    const summary = await connector.sync();
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exitCode = summary.status === 'succeeded' ? 0 : 1;
  } finally {
    await connector.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
});
