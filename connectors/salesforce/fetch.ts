/** The fetch the HTTP layer calls: the global one, or one routed through a proxy (proxy.ts). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;
