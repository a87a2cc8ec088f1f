/**
 * The generated objects as Tables over one snapshot of the org's changes. Rows are built on
 * demand from (seed, index) plus the snapshot's overrides, so a table of a million users costs
 * only its overrides.
 */
import { LoginGenContext, LoginRow, loginFieldIndex, loginTimeMs } from './gen-logins';
import { iso, UserGenContext, UserRow, userFieldIndex } from './gen-users';
import { indexOfId, KeyPrefix, makeId, orgIdSpace } from './ids';
import { Row, Table, Value } from './table';

/** The org's changes since start, frozen at one moment (a query job reads one of these). */
export interface Changes {
  userCount: number;
  overrides: ReadonlyMap<number, Readonly<Record<string, Value>>>;
  deleted: ReadonlySet<number>;
  addedLogins: readonly { userId: string; timeMs: number }[];
}

export class UsersTable implements Table {
  readonly objectName = 'User';
  constructor(
    private readonly ctx: UserGenContext,
    private readonly ch: Changes,
  ) {}

  size(): number {
    return this.ch.userCount;
  }

  row(pos: number): UserRow | null {
    if (pos < 0 || pos >= this.ch.userCount || this.ch.deleted.has(pos)) return null;
    return new UserRow(this.ctx, pos, this.ch.overrides.get(pos));
  }

  byId(id: string): UserRow | null {
    return this.row(indexOfId(KeyPrefix.User, id, orgIdSpace(this.ctx.seed)));
  }

  /** The org's id space (its record Ids differ from every other org's). */
  get space(): string {
    return orgIdSpace(this.ctx.seed);
  }

  monotoneKey(field: string): ((pos: number) => Value) | null {
    return field === 'Id' ? (pos) => makeId(KeyPrefix.User, pos, this.space) : null;
  }

  reader(field: string): ((row: Row) => Value) | null {
    const k = userFieldIndex(field);
    return k === undefined ? null : (row) => (row as UserRow).at(k, field);
  }
}

/** UserLogin: one per user, at the user's position; its fields live on the user row. */
export class UserLoginTable implements Table {
  readonly objectName = 'UserLogin';
  constructor(
    private readonly users: UsersTable,
    private readonly apiUserId: string,
  ) {}

  size(): number {
    return this.users.size();
  }

  row(pos: number): Row | null {
    const u = this.users.row(pos);
    if (!u) return null;
    const apiUserId = this.apiUserId;
    const users = this.users;
    return {
      get(f: string): Value {
        switch (f) {
          case 'Id':
            return makeId(KeyPrefix.UserLogin, pos, users.space);
          case 'UserId':
            return u.get('Id');
          case 'IsFrozen':
            return u.get('__IsFrozen');
          case 'IsPasswordLocked':
            return u.get('__IsPasswordLocked');
          case 'LastModifiedDate':
            return u.get('__UserLoginModified');
          case 'LastModifiedById':
            return apiUserId;
          default:
            return null;
        }
      },
    };
  }

  byId(id: string): Row | null {
    return this.row(indexOfId(KeyPrefix.UserLogin, id, this.users.space));
  }

  byUnique(field: string, value: string): Row | null {
    return field === 'UserId' ? this.row(indexOfId(KeyPrefix.User, value, this.users.space)) : null;
  }

  monotoneKey(field: string): ((pos: number) => Value) | null {
    return field === 'Id' ? (pos) => makeId(KeyPrefix.UserLogin, pos, this.users.space) : null;
  }
}

export class LoginsTable implements Table {
  readonly objectName = 'LoginHistory';
  /** LoginTime is monotone over positions when added events come in time order after the generated ones. */
  private readonly timeMonotone: boolean;

  constructor(
    private readonly ctx: LoginGenContext,
    private readonly added: Changes['addedLogins'],
  ) {
    let prev = ctx.count > 0 ? loginTimeMs(ctx, ctx.count - 1) : -Infinity;
    let ok = true;
    for (const a of added) {
      if (a.timeMs < prev) ok = false;
      prev = a.timeMs;
    }
    this.timeMonotone = ok;
  }

  size(): number {
    return this.ctx.count + this.added.length;
  }

  row(pos: number): LoginRow | null {
    if (pos < 0 || pos >= this.size()) return null;
    return pos < this.ctx.count
      ? new LoginRow(this.ctx, pos)
      : new LoginRow(this.ctx, pos, this.added[pos - this.ctx.count]);
  }

  byId(id: string): LoginRow | null {
    return this.row(indexOfId(KeyPrefix.LoginHistory, id, orgIdSpace(this.ctx.seed)));
  }

  /** Time of the event at a position, without building its row. */
  timeAt(pos: number): number {
    return pos < this.ctx.count ? loginTimeMs(this.ctx, pos) : this.added[pos - this.ctx.count].timeMs;
  }

  monotoneKey(field: string): ((pos: number) => Value) | null {
    if (field === 'Id') return (pos) => makeId(KeyPrefix.LoginHistory, pos, orgIdSpace(this.ctx.seed));
    if (field === 'LoginTime' && this.timeMonotone) return (pos) => iso(this.timeAt(pos));
    return null;
  }

  reader(field: string): ((row: Row) => Value) | null {
    const k = loginFieldIndex(field);
    return k === undefined ? null : (row) => (row as LoginRow).at(k);
  }
}
