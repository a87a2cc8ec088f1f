import { ConfigError, loadConfigFile, formatIssue, transportWarnings } from '../../pipeline/config';
import { scrub } from '../../kernel/logger';
import { CONFIG_OPTION, EXIT, configPath, type Command } from '../lib/command';
import { checkDatabase, checkKafka, checkRegistry, checkSalesforce, type CheckResult } from '../lib/checks';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate the config and test every connection (Salesforce, Kafka, registry, database)',
  usage: 'connector check --config <file> [--timeout <seconds>]',
  help: `Validates the config file, then tests each connection and prints one ✓ or ✗ line per check:
  config · Salesforce login · what the integration user may read (User, LoginHistory, UserLogin:
  which features are off and the permission that turns each on) · Kafka · schema registry ·
  database. A file with role: sink is not checked against Salesforce, one with role: connector
  not against the database. A "!" line passed with a warning: sync runs without the feature it
  names, or a transport warning (plaintext credentials, certificate checks off) is said, not failed.
Nothing is written anywhere.

  -c, --config <file>    the connector's config file (or CONNECTOR_CONFIG)
      --timeout <s>      give each check this long (default 20)

Exit: 0 when every check passes, 1 when one fails, 2 for bad usage or an invalid config.`,
  options: { ...CONFIG_OPTION, timeout: { type: 'string' } },
  async run(values) {
    const path = configPath(values);
    const timeoutMs = Number(values.timeout ?? 20) * 1000;
    let config;
    try {
      config = loadConfigFile(path, undefined, { role: 'any' });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      print(
        {
          name: 'Config',
          ok: false,
          detail: `${path}: ${err.issues.length} error${err.issues.length === 1 ? '' : 's'}`,
        },
        [],
      );
      for (const i of err.issues) process.stdout.write(`    - ${formatIssue(i)}\n`);
      return EXIT.usage;
    }
    const secrets = config.secrets;
    const role = config.role === 'both' ? '' : `, role ${config.role}`;
    const detail = `${path}: connector ${config.connectorName} (${config.connectorServerName})${role}`;
    print({ name: 'Config', ok: true, detail }, secrets);
    // Said, not failed: a lab without TLS is legitimate, but nobody should run one by accident.
    for (const w of transportWarnings(config)) process.stdout.write(scrub(`! Transport: ${w}\n`, secrets));
    const results: CheckResult[] = [];
    // A role's file is checked for what that role reaches: the sink never talks to Salesforce,
    // the connector never to the database.
    const sf = config.salesforce;
    if (sf) {
      for (const r of await checkSalesforce({ ...config, salesforce: sf }, timeoutMs)) results.push(print(r, secrets));
    }
    results.push(print(await checkKafka(config, timeoutMs), secrets));
    results.push(print(await checkRegistry(config, timeoutMs), secrets));
    if (config.role !== 'connector') results.push(print(await checkDatabase(config, timeoutMs), secrets));
    const failed = results.filter((r) => !r.ok).length;
    process.stdout.write(failed === 0 ? 'All checks passed.\n' : `${failed} check${failed === 1 ? '' : 's'} failed.\n`);
    return failed === 0 ? EXIT.ok : EXIT.failed;
  },
};

function print(r: CheckResult, secrets: readonly string[]): CheckResult {
  process.stdout.write(scrub(`${r.ok ? (r.warning ? '!' : '✓') : '✗'} ${r.name}: ${r.detail}\n`, secrets));
  return r;
}
