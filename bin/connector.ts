#!/usr/bin/env node
/**
 * The connector's one command line:
 *   connector <sync|start|sink|replay|check|mapping export|status|simulator> [options]
 * Every command has --help. Exit codes: 0 ok, 1 failed, 2 bad usage or invalid config.
 * Results go to stdout; logs are JSON lines on stderr, with every configured secret scrubbed.
 */
import { parseArgs } from 'node:util';
import { ConnectorError } from '../kernel/errors';
import { scrub } from '../kernel/logger';
import { EXIT, UsageError, type Command } from './lib/command';
import { processSecrets } from './lib/context';
import { checkCommand } from './commands/check';
import { mappingExportCommand, resetCommand, simulatorCommand, statusCommand } from './commands/misc';
import { replayCommand, sinkCommand } from './commands/sink';
import { startCommand } from './commands/start';
import { syncCommand } from './commands/sync';

const COMMANDS: Command[] = [
  syncCommand,
  startCommand,
  sinkCommand,
  replayCommand,
  checkCommand,
  mappingExportCommand,
  statusCommand,
  resetCommand,
  simulatorCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Salesforce → Neurons connector',
    '',
    'usage: connector <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'connector <command> --help' for a command's options. Config format: docs/configuration.md",
  ].join('\n');
}

/** Finds the command (one or two words) and parses its options; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(overview() + '\n');
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => argv.slice(0, c.name.split(' ').length).join(' ') === c.name);
  if (!command) {
    process.stderr.write(`unknown command: ${argv.slice(0, 2).join(' ')}\n\n${overview()}\n`);
    return EXIT.usage;
  }
  const rest = argv.slice(command.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n\n${command.help}\n`);
    return EXIT.ok;
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  if (command.positionals) {
    values = {};
    positionals = rest;
  } else {
    try {
      ({ values, positionals } = parseArgs({
        args: rest,
        options: command.options,
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return command.run(values, positionals);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // kafkajs and pg may keep sockets referenced briefly after close: exit once output is flushed.
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      const usage = err instanceof UsageError || (err instanceof ConnectorError && err.code === 'CONFIG_INVALID');
      const message = scrub(err instanceof Error ? err.message : String(err), processSecrets);
      const hint = err instanceof UsageError ? '\n(run with --help for the options)' : '';
      process.stderr.write(`${usage ? 'error' : 'failed'}: ${message}${hint}\n`);
      process.exit(usage ? EXIT.usage : EXIT.failed);
    },
  );
}
