import { registryClient } from '../../../schemas/registry-client';

/** Read-only look-ups through the one registry client, to check what tests did (404: an error here). */
export function registryHttp(baseUrl: string) {
  const client = registryClient({ url: baseUrl });
  const found = <T>(what: string, v: T | null): T => {
    if (v === null) throw new Error(`${what}: 404`);
    return v;
  };
  return {
    subjects: () => client.subjects(),
    versions: (subject: string) => client.versions(subject),
    latest: async (subject: string) => found(`latest of ${subject}`, await client.latest(subject)),
    compatibility: async (subject: string) =>
      found(`compatibility of ${subject}`, await client.getCompatibility(subject)),
    schemaById: async (id: number) => JSON.parse(found(`schema ${id}`, await client.schemaById(id))) as unknown,
  };
}
