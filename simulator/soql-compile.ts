/**
 * SOQL AST → an executable plan against the org's schema: resolves field paths
 * (case-insensitive, child-to-parent relationships), checks types, and refuses what Bulk API
 * 2.0 refuses. The plan's functions read rows through a DataSource, so one plan can run over
 * any snapshot of the data.
 */
import { SfError, soqlError } from './errors';
import { FieldDef, ObjectDef, Schema } from './schema';
import { comparator, operandFor, TEXT_TYPES } from './soql-values';
import { Condition, Literal, parseSoql, Path, SoqlQuery, SubQuery } from './soql-parser';
import { DataSource, Row, Table, Value } from './table';

export type Getter = (row: Row, data: DataSource) => Value;
export type Predicate = (row: Row, data: DataSource) => boolean;

export interface ResolvedPath {
  /** Canonical dotted name, as the CSV header shows it (UserRole.Name). */
  name: string;
  field: FieldDef;
  get: Getter;
  /** True when the path is a field of the queried object itself (no relationship hop). */
  direct: boolean;
}

export interface OrderTerm {
  path: ResolvedPath;
  desc: boolean;
  nullsLast: boolean;
}

/** A constraint `field OP value` that holds for every result (a top-level conjunct). */
export interface Bound {
  field: string;
  op: '=' | '<' | '<=' | '>' | '>=';
  value: Value;
}

export interface QueryPlan {
  object: ObjectDef;
  columns: ResolvedPath[];
  where: Predicate | null;
  orderBy: OrderTerm[];
  limit: number | null;
  bounds: Bound[];
}

const BULK = 'API_ERROR';

/** The maximum length of a SOQL statement (Salesforce's documented default: 100,000 characters). */
export const MAX_SOQL_LENGTH = 100_000;

/** Parses and compiles a Bulk API 2.0 query; throws SfError(400) as Salesforce would refuse it. */
export function compileBulkQuery(text: string, schema: Schema, version: number): QueryPlan {
  // Salesforce's documented default limit on a SOQL statement's length, checked before parsing.
  if (text.length > MAX_SOQL_LENGTH)
    throw new SfError(400, 'MALFORMED_QUERY', `SOQL statements can not be longer than ${MAX_SOQL_LENGTH} characters.`);
  return new Compiler(text, schema, version).compile(parseSoql(text));
}

/** Resolves a dotted field path on an object (for userRow and tests); throws SfError. */
export function resolvePath(schema: Schema, objectName: string, version: number, dotted: string): ResolvedPath {
  const obj = schema.object(objectName, version);
  if (!obj) throw new SfError(404, 'NOT_FOUND', `no object ${objectName}`);
  return new Compiler(dotted, schema, version).path(obj, { parts: dotted.split('.'), pos: 0 }, 'select');
}

class Compiler {
  constructor(
    private readonly q: string,
    private readonly schema: Schema,
    private readonly version: number,
  ) {}

  private err(code: string, pos: number, message: string): SfError {
    return soqlError(code, this.q, pos, message);
  }

  compile(ast: SoqlQuery): QueryPlan {
    // Bulk API 2.0's refusals come first: they do not depend on the fields.
    for (const item of ast.select) {
      if (item.kind === 'subquery')
        throw new SfError(400, BULK, 'Aggregate Relationships not supported in Bulk V2 Query with CSV content type.');
      if (item.kind === 'typeof') throw new SfError(400, BULK, 'TYPEOF is not supported in Bulk API 2.0 queries.');
      if (item.kind === 'function') {
        if (item.name === 'FIELDS')
          throw new SfError(
            400,
            BULK,
            'FIELDS() is not supported in Bulk API 2.0 queries: list the fields explicitly.',
          );
        throw new SfError(
          400,
          BULK,
          `Aggregate functions such as ${item.name}() are not supported in Bulk API 2.0 queries.`,
        );
      }
    }
    if (ast.groupBy !== null) throw new SfError(400, BULK, 'GROUP BY is not supported in Bulk API 2.0 queries.');
    if (ast.offset !== null) throw new SfError(400, BULK, 'OFFSET is not supported in Bulk API 2.0 queries.');

    const obj = this.object(ast.from.name, ast.from.pos);
    const columns: ResolvedPath[] = [];
    const seen = new Set<string>();
    for (const item of ast.select) {
      if (item.kind !== 'field') continue;
      const p = this.path(obj, item.path, 'select');
      if (p.field.type === 'address') {
        throw new SfError(400, 'FUNCTIONALITY_NOT_ENABLED', 'Selecting compound data not supported in Bulk Query');
      }
      if (seen.has(p.name.toLowerCase()))
        throw this.err('MALFORMED_QUERY', item.path.pos, `duplicate field selected: ${p.name}`);
      seen.add(p.name.toLowerCase());
      columns.push(p);
    }
    const where = ast.where ? this.condition(obj, ast.where, false) : null;
    const orderBy = ast.orderBy.map((o): OrderTerm => {
      const p = this.path(obj, o.path, 'order');
      return { path: p, desc: o.desc, nullsLast: o.nullsLast };
    });
    return {
      object: obj,
      columns,
      where,
      orderBy,
      limit: ast.limit,
      bounds: ast.where ? this.bounds(obj, ast.where) : [],
    };
  }

  private object(name: string, pos: number): ObjectDef {
    const obj = this.schema.object(name, this.version);
    if (!obj) {
      throw this.err(
        'INVALID_TYPE',
        pos,
        `sObject type '${name}' is not supported. If you are attempting to use a custom object, be ` +
          `sure to append the '__c' after the entity name. Please reference your WSDL or the describe ` +
          `call for the appropriate names.`,
      );
    }
    return obj;
  }

  path(root: ObjectDef, path: Path, use: 'select' | 'filter' | 'order'): ResolvedPath {
    let obj = root;
    const hops: { field: string; target: string }[] = [];
    const names: string[] = [];
    for (const part of path.parts.slice(0, -1)) {
      const rel = this.schema.relationship(obj, part, this.version);
      const target = rel && this.schema.object(rel.referenceTo[0], this.version);
      if (!rel || !target) {
        throw this.err(
          'INVALID_FIELD',
          path.pos,
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom ` +
            `relationship, be sure to append the '__r' after the custom relationship name. Please ` +
            `reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      hops.push({ field: rel.name, target: target.name });
      names.push(rel.relationshipName as string);
      obj = target;
    }
    const last = path.parts[path.parts.length - 1];
    const field = this.schema.field(obj, last, this.version);
    if (!field) {
      throw this.err(
        'INVALID_FIELD',
        path.pos,
        `No such column '${last}' on entity '${obj.name}'. If you are attempting to use a custom ` +
          `field, be sure to append the '__c' after the custom field name. Please reference your WSDL or ` +
          `the describe call for the appropriate names.`,
      );
    }
    if (use === 'filter' && !field.filterable)
      throw this.err('INVALID_FIELD', path.pos, `field '${field.name}' can not be filtered in a query call`);
    if (use === 'order' && !field.sortable)
      throw this.err('INVALID_FIELD', path.pos, `field '${field.name}' can not be sorted in a query call`);
    names.push(field.name);
    const name = field.name;
    const get: Getter =
      hops.length === 0
        ? (row) => row.get(name)
        : (row, data) => {
            let r: Row | null = row;
            for (const h of hops) {
              const id = r.get(h.field);
              if (id === null) return null;
              r = data.table(h.target).byId(String(id));
              if (r === null) return null;
            }
            return r.get(name);
          };
    return { name: names.join('.'), field, get, direct: hops.length === 0 };
  }

  private condition(obj: ObjectDef, c: Condition, inSubQuery: boolean): Predicate {
    switch (c.kind) {
      case 'and': {
        const ps = c.items.map((x) => this.condition(obj, x, inSubQuery));
        return (row, data) => ps.every((p) => p(row, data));
      }
      case 'or': {
        const ps = c.items.map((x) => this.condition(obj, x, inSubQuery));
        return (row, data) => ps.some((p) => p(row, data));
      }
      case 'not': {
        const p = this.condition(obj, c.item, inSubQuery);
        return (row, data) => !p(row, data);
      }
      case 'includes':
        throw this.err(
          'INVALID_QUERY_FILTER_OPERATOR',
          c.pos,
          'includes or excludes operator only valid on multipicklist field',
        );
      case 'compare': {
        const p = this.path(obj, c.path, 'filter');
        const t = p.field.type;
        if (c.op === 'like' && !TEXT_TYPES.has(t))
          throw this.err('INVALID_QUERY_FILTER_OPERATOR', c.pos, `invalid operator on ${t} field: LIKE`);
        if (t === 'boolean' && c.op !== '=' && c.op !== '!=')
          throw this.err('INVALID_QUERY_FILTER_OPERATOR', c.pos, `invalid operator on boolean field: ${c.op}`);
        const test = comparator(t, c.op, operandFor(this.q, p.field, c.value));
        return (row, data) => test(p.get(row, data), data.nowMs);
      }
      case 'in': {
        const p = this.path(obj, c.path, 'filter');
        const tests = c.values.map((v: Literal) => comparator(p.field.type, '=', operandFor(this.q, p.field, v)));
        const negate = c.negate;
        return (row, data) => {
          const v = p.get(row, data);
          const hit = tests.some((t) => t(v, data.nowMs));
          return negate ? !hit : hit;
        };
      }
      case 'semiJoin':
        if (inSubQuery) throw this.err('MALFORMED_QUERY', c.pos, 'Nesting of semi join sub-selects is not supported');
        return this.semiJoin(obj, c.path, c.sub, c.negate);
    }
  }

  /** `field [NOT] IN (SELECT f FROM Other WHERE …)`: a semi-join (anti-join), allowed in Bulk. */
  private semiJoin(obj: ObjectDef, outerPath: Path, sub: SubQuery, negate: boolean): Predicate {
    const outer = this.path(obj, outerPath, 'filter');
    if (!outer.direct || (outer.field.type !== 'id' && outer.field.type !== 'reference')) {
      throw this.err(
        'MALFORMED_QUERY',
        outerPath.pos,
        `The left operand field in the where expression for outer query should be an id field, cannot ` +
          `use: '${outer.name}'`,
      );
    }
    const subObj = this.object(sub.from.name, sub.from.pos);
    if (subObj.name === obj.name)
      throw this.err(
        'MALFORMED_QUERY',
        sub.from.pos,
        'The inner and outer selects should not be on the same object type',
      );
    if (sub.select.length !== 1 || sub.select[0].kind !== 'field')
      throw this.err('MALFORMED_QUERY', sub.pos, 'Semi join sub-selects must select exactly one field');
    const inner = this.path(subObj, sub.select[0].path, 'filter');
    if (!inner.direct || (inner.field.type !== 'id' && inner.field.type !== 'reference')) {
      throw this.err(
        'MALFORMED_QUERY',
        sub.select[0].path.pos,
        `The selected field '${inner.name}' in the subquery should be an id or a reference field`,
      );
    }
    const outerTarget = outer.field.type === 'id' ? obj.name : outer.field.referenceTo[0];
    const innerTargets = inner.field.type === 'id' ? [subObj.name] : inner.field.referenceTo;
    if (!innerTargets.includes(outerTarget)) {
      throw this.err(
        'MALFORMED_QUERY',
        sub.select[0].path.pos,
        'The selected field in the subquery and the left operand field in the where expression in the ' +
          'outer query must point to the same object type',
      );
    }
    const subWhere = sub.where ? this.condition(subObj, sub.where, true) : null;
    const subName = subObj.name;
    const innerField = inner.field;
    const matches = (r: Row | null, data: DataSource): boolean =>
      r !== null && (subWhere === null || subWhere(r, data));
    // Resolve per row by id or unique key when possible; otherwise materialise the inner set once per snapshot.
    const sets = new WeakMap<DataSource, Set<string>>();
    const innerSet = (data: DataSource): Set<string> => {
      let s = sets.get(data);
      if (!s) {
        s = new Set();
        const t: Table = data.table(subName);
        for (let pos = 0; pos < t.size(); pos++) {
          const r = t.row(pos);
          if (r && matches(r, data)) {
            const v = r.get(innerField.name);
            if (v !== null) s.add(String(v));
          }
        }
        sets.set(data, s);
      }
      return s;
    };
    return (row, data) => {
      const v = outer.get(row, data);
      if (v === null) return negate;
      const t = data.table(subName);
      let hit: boolean;
      if (innerField.type === 'id') hit = matches(t.byId(String(v)), data);
      else if (innerField.unique && t.byUnique) hit = matches(t.byUnique(innerField.name, String(v)), data);
      else hit = innerSet(data).has(String(v));
      return negate ? !hit : hit;
    };
  }

  /** Top-level conjuncts on the object's own fields: the planner narrows scans with them. */
  private bounds(obj: ObjectDef, c: Condition): Bound[] {
    const items = c.kind === 'and' ? c.items : [c];
    const out: Bound[] = [];
    for (const x of items) {
      if (x.kind !== 'compare' || x.op === '!=' || x.op === 'like' || x.path.parts.length !== 1) continue;
      const field = this.schema.field(obj, x.path.parts[0], this.version);
      if (!field || (field.type !== 'id' && field.type !== 'datetime')) continue;
      const operand = operandFor(this.q, field, x.value);
      if (operand.kind !== 'exact' || operand.value === null) continue;
      out.push({ field: field.name, op: x.op, value: operand.value });
    }
    return out;
  }
}
