/** Read-only look-ups on the registry's Confluent-compatible API, to check what tests did. */
export function registryHttp(baseUrl: string) {
  const get = async (p: string): Promise<unknown> => {
    const res = await fetch(`${baseUrl}${p}`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.json();
    if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  return {
    // Apicurio lists 1000 subjects unless asked for more; a shared registry holds more than that
    subjects: () => get('/subjects?limit=1000000') as Promise<string[]>,
    versions: (subject: string) => get(`/subjects/${encodeURIComponent(subject)}/versions`) as Promise<number[]>,
    latest: (subject: string) => get(`/subjects/${encodeURIComponent(subject)}/versions/latest`) as Promise<{ id: number; version: number; schema: string }>,
    compatibility: async (subject: string) => ((await get(`/config/${encodeURIComponent(subject)}`)) as { compatibilityLevel: string }).compatibilityLevel,
    schemaById: async (id: number) => JSON.parse(((await get(`/schemas/ids/${id}`)) as { schema: string }).schema) as unknown,
  };
}
