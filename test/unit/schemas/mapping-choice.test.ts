import { avroType, checkMapping, loadCatalog } from '../../../schemas';
import { applyFieldChoice, parseFieldChoice, type FieldChoice } from '../../../schemas/mapping-choice';

const shipped = loadCatalog();
const choice = (v: unknown): FieldChoice => parseFieldChoice(v, shipped.userMapping);

describe('field choice', () => {
  it('adds custom fields as optional typed attributes; the schema still matches its mapping', () => {
    const c = loadCatalog(
      choice({
        include: { Region__c: 'string', Quota__c: 'double', HireDate__c: 'date' },
        exclude: ['AboutMe'],
        hash: ['Email'],
      }),
    );
    expect(checkMapping(c.userMapping, c.schemas.userValue)).toEqual([]);
    const fields = (c.schemas.userValue as { fields: { name: string; type: unknown; default?: unknown }[] }).fields;
    expect(fields.find((f) => f.name === 'Quota__c')).toMatchObject({ type: ['null', 'double'], default: null });
    expect(fields.find((f) => f.name === 'HireDate__c')).toMatchObject({
      type: ['null', { type: 'int', logicalType: 'date' }],
    });
    expect(c.userMapping.rows.find((r) => r.sourceField === 'AboutMe')?.notes).toMatch(/excluded: never read/);
    expect(c.userMapping.rows.find((r) => r.sourceField === 'Email')?.notes).toMatch(/HMAC-SHA-256/);
  });

  it('evolves BACKWARD-compatibly: the new schema reads records written with the shipped one', () => {
    const c = loadCatalog(choice({ include: { Region__c: 'string', IsContractor__c: 'boolean' } }));
    const oldType = avroType(shipped.schemas.userValue);
    const newType = avroType(c.schemas.userValue);
    const resolver = newType.createResolver(oldType);
    const record = oldType.random();
    const read = newType.fromBuffer(oldType.toBuffer(record), resolver) as Record<string, unknown>;
    expect(read.Region__c).toBeNull();
    expect(read.IsContractor__c).toBeNull();
  });

  it.each([
    [{ include: { Region: 'string' } }, /fields\.include: "Region" is not a custom field API name/],
    [{ include: { Region__c: 'text' } }, /fields\.include\.Region__c: type must be one of string, boolean/],
    [{ exclude: ['IsActive'] }, /fields\.exclude: IsActive is needed by the connector itself/],
    [{ exclude: ['Username2'] }, /fields\.exclude: Username2 is not a User field of the mapping/],
    [{ hash: ['IsActive'] }, /cannot be hashed/],
    [{ hash: ['ReceivesInfoEmails'] }, /fields\.hash: ReceivesInfoEmails is of type boolean; only text/],
    [{ hash: ['Email'], exclude: ['Email'] }, /fields\.hash: Email is also excluded/],
    [{ include: { Quota__c: 'double' }, hash: ['Quota__c'] }, /Quota__c is of type double/],
  ])('refuses %j, naming the option', (v, message) => {
    expect(() => choice(v)).toThrow(message);
  });

  it('without a choice, the catalog is the shipped one', () => {
    expect(applyFieldChoice(shipped.userMapping, shipped.schemas.userValue, choice(undefined))).toEqual({
      mapping: shipped.userMapping,
      schema: shipped.schemas.userValue,
    });
  });
});
