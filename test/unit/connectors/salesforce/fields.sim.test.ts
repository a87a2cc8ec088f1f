/**
 * Field choice against the simulator: custom User fields read with the values the simulator
 * holds, excluded fields never in any SOQL, hashed values = HMAC-SHA-256(salt, the org's value).
 */
import { createHmac } from 'node:crypto';
import type { FetchFn } from '../../../../connectors/salesforce/http';
import type { FieldChoice } from '../../../../schemas/mapping-choice';
import type { Simulator } from '../../../../simulator/api';
import { MINIMAL_ORG } from '../../../../simulator/presets';
import { drain, extractor, startSim } from './sim-helpers';

const SALT = 'test-salt-0123456789abcdef';
const CHOICE: FieldChoice = {
  include: [
    { name: 'Region__c', type: 'string' },
    { name: 'Quota__c', type: 'double' },
    { name: 'HireDate__c', type: 'date' },
    { name: 'IsContractor__c', type: 'boolean' },
  ],
  exclude: ['AboutMe', 'Signature', 'Phone', 'MobilePhone', 'UserPreferences*'],
  hash: ['Email', 'EmployeeNumber'],
};

/** A fetch that keeps every request body (the SOQL of job creations). */
function bodies(): { fetch: FetchFn; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    fetch: (url, init) => {
      if (typeof init.body === 'string') sent.push(init.body);
      return fetch(url, init);
    },
  };
}

describe('custom, excluded and hashed fields', () => {
  let sim: Simulator;
  const seed = Number(process.env.SEED ?? Date.now() % 100000);
  beforeAll(async () => {
    sim = await startSim({ users: 80, logins: 0 });
    // random custom values on a random half of the users (replay with SEED)
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const id of sim.userIds()) {
      if (rnd() < 0.5) continue;
      sim.updateUser(id, {
        Region__c: ['EMEA', 'AMER', 'APAC'][Math.floor(rnd() * 3)],
        Quota__c: Math.round(rnd() * 1e6) / 100,
        HireDate__c: `20${10 + Math.floor(rnd() * 15)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`,
        IsContractor__c: rnd() < 0.3,
      });
    }
  });
  afterAll(() => sim.close());

  it(`imports the org's custom field values, never asks for excluded ones, salts hashes (seed ${seed})`, async () => {
    const b = bodies();
    const got = await drain(extractor(sim, { fields: CHOICE, hashSalt: SALT }, { fetch: b.fetch }).users());
    expect(got.error).toBeUndefined();
    expect(got.rows.length).toBe(sim.userIds().length);
    const soql = b.sent.filter((s) => s.includes('"query"')).join('\n');
    expect(soql).toContain('Region__c');
    for (const f of ['AboutMe', 'Signature', ' Phone', 'MobilePhone', 'UserPreferences']) expect(soql).not.toContain(f);
    for (const row of got.rows) {
      const truth = sim.userRow(row.Id, [
        'Region__c',
        'Quota__c',
        'HireDate__c',
        'IsContractor__c',
        'Email',
        'EmployeeNumber',
      ]);
      expect([row.Id, row.Region__c, row.Quota__c, row.HireDate__c, row.IsContractor__c]).toEqual([
        row.Id,
        truth.Region__c,
        truth.Quota__c,
        truth.HireDate__c,
        truth.IsContractor__c,
      ]);
      const hmac = (v: string) => (v ? createHmac('sha256', SALT).update(v).digest('hex') : '');
      expect([row.Id, row.Email, row.EmployeeNumber]).toEqual([row.Id, hmac(truth.Email), hmac(truth.EmployeeNumber)]);
      expect('AboutMe' in row || 'Phone' in row).toBe(false);
    }
  });

  it('a declared type that does not fit the describe fails, naming the field and both types', async () => {
    const got = await drain(
      extractor(sim, { fields: { include: [{ name: 'Region__c', type: 'double' }], exclude: [], hash: [] } }).users(),
    );
    expect(got.error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(
        /fields\.include\.Region__c: declared double, but Salesforce describes it as picklist/,
      ),
    });
  });

  it('a custom field the integration user cannot see fails, pointing at field-level security', async () => {
    const minimal = await startSim({ users: 5, logins: 0, ...MINIMAL_ORG });
    try {
      const got = await drain(
        extractor(minimal, {
          fields: { include: [{ name: 'Region__c', type: 'string' }], exclude: [], hash: [] },
        }).users(),
      );
      expect(got.error?.message).toMatch(
        /fields\.include\.Region__c: not in this org's User describe.*field-level security/,
      );
    } finally {
      await minimal.close();
    }
  });

  it('fields.hash needs a salt of at least 16 characters', () => {
    expect(() => extractor(sim, { fields: { include: [], exclude: [], hash: ['Email'] }, hashSalt: 'short' })).toThrow(
      /salesforce\.hashSalt: is required with fields\.hash/,
    );
  });
});
