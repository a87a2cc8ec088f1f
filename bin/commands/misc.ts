import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog, exportMappingCsv } from '../../schemas';
import { nextRun, describeSchedule, plannedRetry } from '../../pipeline/schedule';
import type { RunState } from '../../pipeline/run-state';
import { CONFIG_OPTION, EXIT, UsageError, configPath, type Command } from '../lib/command';
import { loadContext } from '../lib/context';
import { readRunState } from '../lib/state';
import { startConnector } from '../../pipeline/connector';
import { toConnectorSettings } from '../../pipeline/config';

export const mappingExportCommand: Command = {
  name: 'mapping export',
  summary: 'print the mapping (Salesforce field → Neurons attribute) as CSV',
  usage: 'connector mapping export [--config <file>] [--object user|login-history] [--out-dir <dir>]',
  help: `Prints the mapping CSV the connector uses (columns: source_object, source_field, target,
type, required, notes), like the product's mapping download.

  -c, --config <file>    the effective mapping of this connector: its custom fields (fields.include)
                         added, excluded and hashed fields noted (default: the shipped mapping)
      --object <name>    user (default) or login-history
      --out-dir <dir>    write both mappings there (user.csv, login-history.csv) instead

Exit: 0 done, 2 bad usage.`,
  options: { ...CONFIG_OPTION, object: { type: 'string' }, 'out-dir': { type: 'string' } },
  async run(values) {
    const catalog =
      typeof values.config === 'string'
        ? loadCatalog(loadContext(values.config, 'connector').config.salesforce?.fields)
        : loadCatalog();
    const files = { user: catalog.userMapping, 'login-history': catalog.loginHistoryMapping };
    if (typeof values['out-dir'] === 'string') {
      mkdirSync(values['out-dir'], { recursive: true });
      for (const [name, mapping] of Object.entries(files))
        writeFileSync(join(values['out-dir'], `${name}.csv`), exportMappingCsv(mapping));
      process.stdout.write(`wrote user.csv and login-history.csv to ${values['out-dir']}\n`);
      return EXIT.ok;
    }
    const object = (values.object as string | undefined) ?? 'user';
    if (!(object in files)) throw new UsageError('--object takes user or login-history');
    process.stdout.write(exportMappingCsv(files[object as keyof typeof files]));
    return EXIT.ok;
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: "show the connector's last runs, lock and next scheduled run (from the state topic)",
  usage: 'connector status --config <file> [--json]',
  help: `Reads the state topic: the last committed (succeeded) run, the latest run whatever its
outcome, and the run lock (a run in progress). Also prints the schedule and the next run.

  -c, --config <file>   the connector's config file (or CONNECTOR_CONFIG)
      --json            one JSON object instead of text

Exit: 0 done, 1 the state topic could not be read, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
  async run(values) {
    const ctx = loadContext(configPath(values), 'any');
    const state = await readRunState(ctx.config, ctx.logger);
    const schedule = ctx.config.schedule;
    const next = schedule.active ? nextRun(schedule, Date.now()) : null;
    // A failed scheduled run is retried within its slot: say when, as the service will.
    const retry = schedule.active
      ? plannedRetry(ctx.config.runRetries, state.lastRun, (slot) => nextRun(schedule, slot))
      : null;
    const view = {
      connector: ctx.config.connectorName,
      schedule: describeSchedule(schedule),
      nextRun: retry ? new Date(retry.at).toISOString() : next === null ? null : new Date(next).toISOString(),
      retry: retry
        ? { attempt: retry.attempt, at: new Date(retry.at).toISOString(), slot: new Date(retry.slot).toISOString() }
        : null,
      lastRun: summarize(state.lastRun),
      lastSucceededRun: summarize(state.committed),
      runInProgress: state.lock && state.lock.status === 'running' ? summarize(state.lock) : null,
    };
    if (values.json) {
      ctx.out(JSON.stringify(view));
      return EXIT.ok;
    }
    ctx.out(`connector:      ${view.connector}`);
    ctx.out(
      `schedule:       ${view.schedule}; next run ${view.nextRun ?? '(none: inactive)'}` +
        (view.retry
          ? ` (retry: attempt ${view.retry.attempt} of the slot ${view.retry.slot}, after the last run failed)`
          : ''),
    );
    for (const [label, r] of [
      ['last run', view.lastRun],
      ['last success', view.lastSucceededRun],
      ['in progress', view.runInProgress],
    ] as const) {
      ctx.out((label + ':').padEnd(16) + (r ? runLine(r) : '(none)'));
    }
    return EXIT.ok;
  },
};

/** One run of `status`, on one line: when, how it ended, what it moved. */
function runLine(r: NonNullable<ReturnType<typeof summarize>>): string {
  const retry = r.attempt && r.attempt > 1 ? ` (retry, attempt ${r.attempt})` : '';
  return (
    `${r.status} ${r.startedAt} → ${r.endedAt ?? '…'}${retry}: ${r.usersExtracted} users extracted, ` +
    `${r.usersPublished} published, ${r.usersTombstoned} deleted, ${r.loginEventsPublished} logins, ` +
    `${r.deadLettered} dead letters${r.message ? `; ${r.message}` : ''}`
  );
}

function summarize(s: RunState | null) {
  if (!s) return null;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    runId: s.runId,
    status: s.status,
    startedAt: iso(s.startedAt),
    endedAt: iso(s.endedAt),
    scheduledFor: iso(s.scheduledFor ?? null),
    attempt: s.attempt ?? null,
    usersExtracted: s.usersExtracted,
    usersPublished: s.usersPublished,
    usersUnchanged: s.usersUnchanged,
    usersTombstoned: s.usersTombstoned,
    loginEventsPublished: s.loginEventsPublished,
    deadLettered: s.deadLettered,
    loginHistoryWatermark: iso(s.loginHistoryWatermark),
    apiRequestsUsed: s.apiRequestsUsed,
    apiRequestsMax: s.apiRequestsMax,
    message: s.message,
    ...(s.status === 'running' ? { host: s.host, pid: s.pid, heartbeatAt: iso(s.heartbeatAt) } : {}),
  };
}

export const simulatorCommand: Command = {
  name: 'simulator',
  summary: 'start the Salesforce API simulator with generated data (demos)',
  usage: 'connector simulator [--port <n>] [--users <n>] [--logins <n>] [--seed <n>] [...]',
  help: `Starts the Salesforce API simulator (simulator) on 127.0.0.1 and prints one JSON line with
its URL and credentials; serves until SIGINT/SIGTERM. Options are the simulator's own:
  --port --seed --users --logins --now --daily-api-limit --page-size --missing-user-fields A,B --job-polls N
  --api-used N --max-api-version N --permissions ManageUsers,ViewAllUsers,MonitorLoginHistory|none
  --sandbox true --preset minimal (User only, 20 fields, API 58: a restricted integration user)

Exit: 0 after SIGINT/SIGTERM, 2 bad options.`,
  options: {},
  positionals: true,
  run(_values, args) {
    const base = join(__dirname, '..', '..', 'simulator', 'cli');
    const script = [`${base}.js`, `${base}.ts`].find((f) => existsSync(f));
    if (!script)
      throw new UsageError(
        'the simulator is not part of the installed package: run `npm run simulator` from a checkout of the repository',
      );
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? EXIT.failed)));
  },
};

export { CONFIG_OPTION };

export const resetCommand: Command = {
  name: 'reset',
  summary: 'bind the connector to another Salesforce org on purpose (after an ORG_MISMATCH refusal)',
  usage: 'connector reset --config <file> --org <org Id>',
  help: `A connector is bound to the Salesforce org its state was built from: a run that reaches
another org refuses (ORG_MISMATCH) before publishing or deleting anything. When the new org is
intended, reset binds the connector to it: the next run starts afresh for that org (LoginHistory
from the look-back window). Users published for the old org are then neither updated nor
deleted by this connector. The alternative is a new connectorName.

  -c, --config <file>   the connector's config file (or CONNECTOR_CONFIG)
      --org <id>        the org Id to bind to (named in the ORG_MISMATCH error)

Refuses while a run holds the lock. Exit: 0 done, 1 failed, 2 bad usage or config.`,
  options: { ...CONFIG_OPTION, org: { type: 'string' } },
  async run(values) {
    if (typeof values.org !== 'string')
      throw new UsageError('reset needs --org <org Id>: the org the connector should follow from now on');
    const ctx = loadContext(configPath(values), 'connector');
    const connector = await startConnector(toConnectorSettings(ctx.config), { logger: ctx.logger });
    try {
      await connector.reset(values.org);
    } finally {
      await connector.close();
    }
    ctx.out(
      `connector ${ctx.config.connectorName} is now bound to Salesforce org ${values.org}; ` +
        'its next run starts afresh for that org',
    );
    return EXIT.ok;
  },
};
