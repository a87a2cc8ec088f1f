import * as fs from 'node:fs';
import { endpoints } from './env';
import { isAlive } from './proc';
import { ALL, STATE_FILE, StartedService, ensureServices, stopServices } from './services';

/**
 * `npm run services:start | services:stop | services:status`: keeps the local servers running
 * between test runs (the tests then reuse them and start in seconds). `stop` stops only what
 * `start` started, by the pids it recorded.
 */
async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'start': {
      const handle = await ensureServices((line) => console.error(line));
      const previous = readState().filter((s) => isAlive(s.pid));
      fs.writeFileSync(STATE_FILE, JSON.stringify([...previous, ...handle.started], null, 2));
      console.log(JSON.stringify(handle.endpoints, null, 2));
      return;
    }
    case 'stop': {
      const started = readState();
      await stopServices(started);
      fs.rmSync(STATE_FILE, { force: true });
      console.error(`stopped ${started.length} service(s)`);
      return;
    }
    case 'status': {
      for (const svc of ALL)
        console.log(`${svc.name}: ${(await svc.ready().catch(() => false)) ? 'ready' : 'not running'}`);
      console.log(JSON.stringify(endpoints(), null, 2));
      return;
    }
    default:
      throw new Error('usage: cli.ts start | stop | status');
  }
}

function readState(): StartedService[] {
  return fs.existsSync(STATE_FILE) ? (JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as StartedService[]) : [];
}

main(process.argv[2]).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
