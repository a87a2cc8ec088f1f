/**
 * A stream: one Salesforce object carried to Kafka and to the sinks, described as data. The
 * generic path (pipeline/streams, sinks/) reads only this; a new object is a new declaration
 * file here, its mapping CSV and its Avro schema, and nothing else.
 */
export interface StreamDeclaration {
  /** Stable name: the key of its topic in the config's `topics`, of its state, its metrics. */
  readonly name: string;
  /** The Salesforce object the stream reads (its API name). */
  readonly object: string;
  /**
   * How rows are read. `bulk`: Bulk API 2.0 query jobs, page by page. `rest`: the REST query
   * API (nextRecordsUrl pages), for small objects Bulk API 2.0 does not support.
   */
  readonly api: 'bulk' | 'rest';
  /**
   * `snapshot`: every run reads every row; a key published before and missing from a complete,
   * verified run is tombstoned (the product's removal rule, behind the deletion guard). With
   * `incremental`, a routine run reads instead an Id-only snapshot (verified complete: the
   * removals stay exact) and the rows whose `watermarkField` is at or after the last run's highest
   * value minus the overlap; every `streamsFullScanEvery`, or when the read's shape changes, a full read.
   * `incremental`: only rows newer than the committed watermark (minus an overlap) are read;
   * nothing is ever tombstoned.
   */
  readonly mode:
    | { readonly kind: 'snapshot'; readonly incremental?: { readonly watermarkField: string } }
    | { readonly kind: 'incremental'; readonly watermarkField: string };
  /** The mapping CSV, relative to schemas/ (Salesforce field → Neurons attribute). */
  readonly mapping: string;
  /** The Avro value schema, relative to schemas/. */
  readonly valueSchema: string;
  /** The topic: its default name, and whether it is compacted (snapshot streams keyed by id). */
  readonly topic: { readonly defaultName: string; readonly compacted: boolean; readonly retentionDays?: number };
  /** The source field whose value is the record key (and the sink table's primary key). */
  readonly key: string;
  /** The sink's table: its default name, how records land, and the lookups it is indexed for. */
  readonly sink: {
    readonly table: string;
    /** `upsert`: a record replaces the row with its key, a tombstone deletes it. `append`: insert only. */
    readonly write: 'upsert' | 'append';
    /** Avro field names; the primary key is always the key. */
    readonly indexes: readonly (readonly string[])[];
    /** SQL files (paths relative to schemas/) of views over the stream's tables: a sink that
     *  supports views (PostgreSQL) creates or replaces them once its tables exist. */
    readonly views?: readonly string[];
  };
  /**
   * What the integration user needs to read the object, named in the warning when it cannot: a
   * stream whose object is not readable is skipped (nothing published, nothing deleted).
   */
  readonly permission?: string;
  /**
   * Incremental streams: how far before the committed watermark a run reads again (ms, default
   * 60 s), so rows Salesforce makes visible late are not missed; the key makes re-reads upserts.
   */
  readonly overlapMs?: number;
}

export function declareStream<S extends StreamDeclaration>(stream: S): S {
  return stream;
}
