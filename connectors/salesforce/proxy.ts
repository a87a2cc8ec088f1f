/**
 * Which proxy a Salesforce call goes through, for every call: the token requests (jsforce's
 * transport) and the REST and Bulk calls (fetch). Corporate networks often allow HTTPS out only
 * through a proxy.
 *
 *   source (first that is set)            applies to
 *   ────────────────────────────────────  ─────────────────────────────────────────────────────
 *   salesforceProxy (config)              every Salesforce host not matched by NO_PROXY
 *   HTTPS_PROXY / https_proxy             https targets not matched by NO_PROXY
 *   HTTP_PROXY / http_proxy               http targets (a loopback simulator) not matched by NO_PROXY
 *
 * NO_PROXY (or no_proxy): comma-separated hosts; `*` matches all, `.example.com` and `example.com`
 * match the domain and its subdomains, `host:port` only that port. Proxy credentials come from the
 * config (a secret) or the URL, and never appear in a message.
 */
import { getGlobalDispatcher, ProxyAgent, type Dispatcher } from 'undici';
import { keepGzip } from './raw-gzip';
import type { FetchFn } from './fetch';

export interface ProxyOptions {
  /** http://host:port of the proxy (https:// proxies work too). */
  url: string;
  username?: string;
  password?: string;
}

export interface ProxyRoute {
  /** The proxy URL (credentials included) for a target URL, or null for a direct connection. */
  forUrl(target: string): string | null;
  /** Secrets to scrub (the proxy password). */
  secrets: string[];
}

type Env = Record<string, string | undefined>;

/** True when NO_PROXY exempts host[:port]. */
export function noProxyMatches(hostname: string, port: string, noProxy: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\]$/g, ''))!;
    const [name, entryPort] = [m[1].replace(/^\*?\./, '.'), m[2]];
    if (entryPort && entryPort !== port) continue;
    const bare = name.replace(/^\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function withCredentials(url: string, username?: string, password?: string): string {
  if (!username) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** The route from the config option, else the environment (read when called). */
export function proxyRoute(option: ProxyOptions | undefined, env: Env = process.env): ProxyRoute {
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? '';
  const explicit = option ? withCredentials(option.url, option.username, option.password) : null;
  const https = env.HTTPS_PROXY ?? env.https_proxy ?? null;
  const http = env.HTTP_PROXY ?? env.http_proxy ?? null;
  const secrets = [
    option?.password,
    ...[explicit, https, http].map((u) => (u ? decodeURIComponent(safeUrl(u)?.password ?? '') : '')),
  ].filter((s): s is string => !!s && s.length >= 4);
  return {
    secrets,
    forUrl(target) {
      const t = new URL(target);
      const port = t.port || (t.protocol === 'https:' ? '443' : '80');
      if (noProxyMatches(t.hostname, port, noProxy)) return null;
      return explicit ?? (t.protocol === 'https:' ? https : http) ?? null;
    },
  };
}

function safeUrl(u: string): URL | null {
  try {
    return new URL(u);
  } catch {
    return null;
  }
}

/** A proxy URL without its credentials, for messages. */
export function shownProxy(url: string): string {
  const u = safeUrl(url);
  return u ? `${u.protocol}//${u.host}` : '(proxy)';
}

/** The process's dispatcher (read at each call: a test or an operator may set another) with keepGzip on it. */
const direct = new WeakMap<Dispatcher, Dispatcher>();
function directDispatcher(): Dispatcher {
  const global = getGlobalDispatcher();
  let composed = direct.get(global);
  if (!composed) {
    composed = global.compose(keepGzip);
    direct.set(global, composed);
  }
  return composed;
}

/**
 * Wraps a fetch so each call goes through the route's proxy (one pooled ProxyAgent per proxy), with
 * keepGzip on every call, direct or proxied: http.ts inflates Salesforce's gzip'd bodies (raw-gzip.ts).
 */
export function proxiedFetch(route: ProxyRoute, base: FetchFn = (i, init) => fetch(i, init)): FetchFn {
  const agents = new Map<string, Dispatcher>();
  return (input, init) => {
    const proxy = route.forUrl(input);
    let dispatcher = proxy ? agents.get(proxy) : directDispatcher();
    if (!dispatcher) {
      dispatcher = new ProxyAgent(proxy!).compose(keepGzip);
      agents.set(proxy!, dispatcher);
    }
    // Node's fetch is undici: a dispatcher of the same major version routes the request.
    return base(input, { ...init, dispatcher } as RequestInit);
  };
}
