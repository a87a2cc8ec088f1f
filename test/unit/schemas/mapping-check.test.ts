import { checkMapping } from '../../../schemas/mapping-check';
import { parseMappingCsv } from '../../../schemas/mapping';
import { loadCatalog } from '../../../schemas/catalog';

const HEADER = 'source_object,source_field,target,type,required,notes';
const mapping = (...lines: string[]) => parseMappingCsv([HEADER, ...lines].join('\n') + '\n');
const schema = (...fields: object[]) => ({ type: 'record' as const, name: 'T', fields });
const idField = { name: 'id', type: 'string', doc: 'Id' };

describe('checkMapping: a mapping and its Avro schema must agree', () => {
  test('the shipped mappings and schemas agree', () => {
    const c = loadCatalog();
    expect(checkMapping(c.userMapping, c.schemas.userValue)).toEqual([]);
    expect(checkMapping(c.loginHistoryMapping, c.schemas.loginEventValue)).toEqual([]);
  });

  test('the schema doc strings say what the mapping notes say', () => {
    const c = loadCatalog();
    for (const [m, s] of [
      [c.userMapping, c.schemas.userValue],
      [c.loginHistoryMapping, c.schemas.loginEventValue],
    ] as const) {
      const docs = Object.fromEntries(
        (s as { fields: { name: string; doc: string }[] }).fields.map((f) => [f.name, f.doc]),
      );
      expect(Object.fromEntries(m.rows.map((r) => [r.target, r.notes]))).toEqual(docs);
    }
  });

  const cases: [string, ReturnType<typeof mapping>, object, string[]][] = [
    [
      'agreeing',
      mapping('User,Id,id,id,yes,x', 'User,Lat,lat,double,no,y'),
      schema(idField, { name: 'lat', type: ['null', 'double'], default: null, doc: 'y' }),
      [],
    ],
    [
      'target missing from schema',
      mapping('User,Id,id,id,yes,x', 'User,Fax,fax,string,no,y'),
      schema(idField),
      ['mapping target "fax" is not a field of T'],
    ],
    [
      'schema field without mapping row',
      mapping('User,Id,id,id,yes,x'),
      schema(idField, { name: 'extra', type: ['null', 'string'], default: null, doc: 'e' }),
      ['schema field "extra" has no mapping row'],
    ],
    [
      'required but nullable',
      mapping('User,Id,id,id,yes,x'),
      schema({ name: 'id', type: ['null', 'string'], default: null, doc: 'x' }),
      ['id: required in the mapping but nullable in the schema'],
    ],
    [
      'optional but not nullable',
      mapping('User,Id,id,id,no,x'),
      schema(idField),
      ['id: optional in the mapping, so the schema type must be ["null", T]'],
    ],
    [
      'nullable without null default',
      mapping('User,Id,id,id,no,x'),
      schema({ name: 'id', type: ['null', 'string'], doc: 'x' }),
      ['id: a nullable field must default to null'],
    ],
    [
      'type mismatch',
      mapping('User,Lat,id,double,yes,x'),
      schema(idField),
      ['id: mapping type double cannot fill Avro type "string"'],
    ],
    [
      'datetime needs timestamp-millis',
      mapping('User,D,id,timestamp-millis,yes,x'),
      schema({ name: 'id', type: 'long', doc: 'x' }),
      ['id: mapping type timestamp-millis cannot fill Avro type "long"'],
    ],
    [
      'no doc',
      mapping('User,Id,id,id,yes,x'),
      schema({ name: 'id', type: 'string' }),
      ['id: the schema field has no doc string'],
    ],
    ['not a record', mapping('User,Id,id,id,yes,x'), 'string' as unknown as object, ['schema is not an Avro record']],
  ];
  test.each(cases)('%s', (_name, m, s, problems) => {
    expect(checkMapping(m, s as never)).toEqual(problems);
  });
});
