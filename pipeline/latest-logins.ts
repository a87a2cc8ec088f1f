import type { LoginEventRecord } from './stages';

/**
 * Each user's latest successful login during a run: what the user records' device fields are
 * merged from. One entry per user with a login, so it is kept small: one string per user,
 * `<loginTime, 15 digits><login Id>\0<JSON array of the kept fields>`, instead of an object of
 * strings (roughly 150 bytes against 400 for a slim record). The packed prefix orders entries
 * exactly as laterSuccessfulLogin does (later time, then larger Id), so offers compare without
 * unpacking.
 */
export class LatestLogins {
  private readonly byUser = new Map<string, string>();

  /** `fields`: the login record fields the merge reads (besides id, userId, loginTime, status). */
  constructor(private readonly fields: readonly string[]) {}

  get size(): number {
    return this.byUser.size;
  }

  /** Keeps `login` if it is this user's latest successful login so far. */
  offer(login: LoginEventRecord): void {
    if (login.status !== 'Success') return; // failed attempts may come from someone else's device (laterSuccessfulLogin)
    const current = this.byUser.get(login.userId);
    // Most offers lose on time alone: decide those without building the order key.
    if (current !== undefined && Number(current.slice(0, 15)) > login.loginTime) return;
    const order = orderKey(login);
    if (current !== undefined && current.slice(0, current.indexOf('\0')) >= order) return;
    const values = this.fields.map((f) => login[f] ?? null);
    // Both strings stored are copies: the row's values are slices of the CSV parser's decoded
    // chunk, and one kept slice (even inside a concatenation) would keep the whole chunk alive.
    this.byUser.set(current === undefined ? ownCopy(login.userId) : login.userId, ownCopy(`${order}\0${JSON.stringify(values)}`));
  }

  /** The user's latest successful login (the kept fields only), or null. */
  get(userId: string): LoginEventRecord | null {
    const packed = this.byUser.get(userId);
    if (packed === undefined) return null;
    const split = packed.indexOf('\0');
    const values = JSON.parse(packed.slice(split + 1)) as unknown[];
    const record: Record<string, unknown> = { id: packed.slice(15, split), userId, loginTime: Number(packed.slice(0, 15)), status: 'Success' };
    this.fields.forEach((f, i) => (record[f] = values[i]));
    return record as LoginEventRecord;
  }
}

function orderKey(login: LoginEventRecord): string {
  if (!Number.isInteger(login.loginTime) || login.loginTime < 0 || login.loginTime >= 1e15) throw new RangeError(`login ${login.id}: loginTime ${login.loginTime} is not an epoch millisecond`);
  return `${String(login.loginTime).padStart(15, '0')}${login.id}`;
}

/** A copy of `s` that shares no memory with a longer string it may be a slice of. */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
