/**
 * Runs the simulator from the command line for the demo, the benchmark and manual poking:
 *   npm run simulator -- --users 10000 --logins 50000 --port 0
 * Prints one JSON line (URL and credentials) on stdout, then serves until SIGINT/SIGTERM.
 * Options: --port --seed --users --logins --now --daily-api-limit --page-size
 *          --missing-user-fields A,B --job-polls N --api-used N --max-api-version N
 *          --permissions ManageUsers,ViewAllUsers,MonitorLoginHistory (or none) --sandbox true
 *          --preset minimal (User only, 20 fields, API 58, no permissions: a restricted user)
 */
import { startSimulator } from './index';
import { SIM_PERMISSIONS, SimPermission, SimulatorOptions } from './api';
import { MINIMAL_ORG } from './presets';

const NUMERIC: Record<string, keyof SimulatorOptions> = {
  '--port': 'port',
  '--seed': 'seed',
  '--users': 'users',
  '--logins': 'logins',
  '--daily-api-limit': 'dailyApiLimit',
  '--page-size': 'defaultPageSize',
  '--job-polls': 'jobPollsBeforeComplete',
  '--api-used': 'apiUsedAtStart',
  '--max-api-version': 'maxApiVersion',
};

function parseArgs(argv: string[]): SimulatorOptions {
  const opts: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag in NUMERIC) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${value}`);
      opts[NUMERIC[flag]] = n;
    } else if (flag === '--now') opts.now = value;
    else if (flag === '--missing-user-fields') opts.missingUserFields = value.split(',').filter(Boolean);
    else if (flag === '--preset') {
      if (value !== 'minimal') throw new Error('--preset takes minimal');
      Object.assign(opts, MINIMAL_ORG);
    } else if (flag === '--permissions') {
      const perms = value === 'none' ? [] : value.split(',').filter(Boolean);
      for (const p of perms)
        if (!SIM_PERMISSIONS.includes(p as SimPermission))
          throw new Error(`--permissions: unknown ${p} (known: ${SIM_PERMISSIONS.join(', ')})`);
      opts.apiUserPermissions = perms;
    } else if (flag === '--sandbox') opts.sandbox = value === 'true';
    else throw new Error(`unknown option ${flag}`);
  }
  return opts as SimulatorOptions;
}

async function main(): Promise<void> {
  const sim = await startSimulator(parseArgs(process.argv.slice(2)));
  process.stdout.write(
    `${JSON.stringify({
      url: sim.url,
      loginUrl: sim.url,
      instanceUrl: sim.url,
      orgId: sim.orgId,
      apiUserId: sim.apiUserId,
      credentials: sim.credentials,
      jwtPublicKeyPem: sim.jwtPublicKeyPem,
    })}\n`,
  );
  const stop = (signal: string): void => {
    process.stderr.write(`simulator: ${signal}, stopping after ${sim.apiUsage} API calls\n`);
    sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
