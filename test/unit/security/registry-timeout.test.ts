import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { registryFromConfig } from '../../../schemas/registry';

/**
 * A registry that accepts connections and never answers must not hang the connector: both
 * registry clients give up with an error. On the code without timeouts this test hangs until
 * Jest's own limit fails it.
 */
jest.setTimeout(90_000);

const sockets: Socket[] = [];
const silent = createServer((s) => sockets.push(s));

beforeAll(() => new Promise<void>((r) => silent.listen(0, '127.0.0.1', r)));
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

it('the library client and the ccompat client both time out against a silent registry', async () => {
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const clients = registryFromConfig({ url });
  await expect(clients.registry.getSchema(1)).rejects.toThrow(/timeout/i);
  await expect(clients.admin.getCompatibility('x-value')).rejects.toThrow(/timeout|abort/i);
});
