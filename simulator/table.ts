/**
 * How the query engine sees data: a table is a sequence of positions in Id order, each either
 * a row or a hole (a deleted record). Rows are produced on demand; nothing here holds a whole
 * table in memory except the small fixed ones (roles, profiles, licences).
 */

/** A field value as the simulator keeps it: datetimes as ISO strings with .000Z, dates as
 *  YYYY-MM-DD, booleans and numbers as themselves, null for no value. */
export type Value = string | number | boolean | null;

export interface Row {
  /** Value of a field by its canonical API name (undefined fields read as null). */
  get(field: string): Value;
}

export interface Table {
  readonly objectName: string;
  /** Number of positions, holes included. Position order is Id order. */
  size(): number;
  /** The row at a position, or null for a hole. */
  row(pos: number): Row | null;
  /** The row with this 15- or 18-char id, or null. */
  byId(id: string): Row | null;
  /** For unique reference fields (UserLogin.UserId): the row whose field equals value, or null. */
  byUnique?(field: string, value: string): Row | null;
  /** When the field's value never decreases with position (holes aside), its value at a
   *  position, computed without building the row; used to narrow scans by binary search. */
  monotoneKey?(field: string): ((pos: number) => Value) | null;
  /**
   * A table built on first use: builds it now in slices, yielding to the event loop between them
   * (a query job's processing), so the server keeps answering other calls meanwhile. Absent: the
   * table needs no building. `stopped` (the job was aborted or the simulator closed): the caller no
   * longer waits, and a build no caller waits for any more stops at its next slice.
   */
  prepare?(stopped?: () => boolean): Promise<void>;
  /**
   * A reader of one field of this table's rows, resolved once (row.get(field) without a lookup by
   * name each row), or null: the caller then uses row.get. Same values as row.get(field).
   */
  reader?(field: string): ((row: Row) => Value) | null;
}

/** A table of materialised records, for the small objects. */
export class StaticTable implements Table {
  /** Built on the first lookup by Id: a large table (the assignments, built per snapshot) is mostly only scanned. */
  private indexById: Map<string, number> | null = null;

  constructor(
    readonly objectName: string,
    private readonly records: Record<string, Value>[],
  ) {}

  private get index(): Map<string, number> {
    if (!this.indexById) {
      this.indexById = new Map();
      this.records.forEach((r, i) => this.indexById!.set(String(r.Id).slice(0, 15), i));
    }
    return this.indexById;
  }

  size(): number {
    return this.records.length;
  }

  row(pos: number): Row | null {
    const r = this.records[pos];
    return r ? { get: (f) => r[f] ?? null } : null;
  }

  byId(id: string): Row | null {
    const pos = this.index.get(id.slice(0, 15));
    return pos === undefined ? null : this.row(pos);
  }

  monotoneKey(field: string): ((pos: number) => Value) | null {
    return field === 'Id' ? (pos) => this.records[pos].Id : null;
  }

  /**
   * This table with one record changed (a rename by an admin), as a new table: snapshots taken
   * before, and the jobs reading them, keep the record as it was. Null when there is no record
   * with that Id.
   */
  withUpdate(id: string, values: Record<string, Value>): StaticTable | null {
    const pos = this.index.get(id.slice(0, 15));
    if (pos === undefined) return null;
    const records = this.records.slice();
    records[pos] = { ...records[pos], ...values };
    return new StaticTable(this.objectName, records);
  }
}

/** What a compiled query reads: the tables of one consistent snapshot, and its "now". */
export interface DataSource {
  table(objectName: string): Table;
  /** The org's clock (ms), for date literals such as TODAY and LAST_N_DAYS:n. */
  readonly nowMs: number;
}
