/**
 * Small HTTP helpers shared by the route handlers.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { SfError } from './errors';

const JSON_TYPE = 'application/json;charset=UTF-8';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendSfError(res: ServerResponse, err: SfError, headers: Record<string, string> = {}): void {
  const text = err.body();
  res.writeHead(err.status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body (up to `limit` bytes) as UTF-8. */
export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new SfError(413, 'REQUEST_TOO_LARGE', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The bearer token of a request (Authorization: Bearer … or OAuth …), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = h ? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(h) : null;
  return m ? m[1] : null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
