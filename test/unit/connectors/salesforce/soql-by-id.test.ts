/**
 * Rows by Id: the Ids are spread over as few statements as the SOQL length limit allows, each within
 * it, none lost or repeated. Random Id counts and limits; replay with SYNC_SEED=<n>.
 */
import { buildUserByIdQueries, MAX_SOQL_LENGTH } from '../../../../connectors/salesforce/soql';
import { seededRandom } from '../../../support/sync-oracle';

const idOf = (n: number) => `005${String(n).padStart(12, '0')}AAA`;

describe('buildUserByIdQueries', () => {
  it('chunks Id lists under the SOQL length limit, losing and repeating none', () => {
    const rnd = seededRandom('soql-by-id');
    const fields = ['Id', 'Username', 'Title', 'UserRole.Name', 'SystemModstamp'];
    for (let round = 0; round < 20; round++) {
      const count = Math.floor(rnd.next() * 12_000);
      const max = round % 2 === 0 ? MAX_SOQL_LENGTH : 300 + Math.floor(rnd.next() * 5_000);
      const ids = Array.from({ length: count }, (_, i) => idOf(i * 7 + round));
      const qs = buildUserByIdQueries(fields, ['active'], ["Department = 'X'"], ids, max);
      const seen: string[] = [];
      for (const q of qs) {
        expect(q.length).toBeLessThanOrEqual(max);
        const head = 'SELECT Id, Username, Title, UserRole.Name, SystemModstamp FROM User ';
        expect(q.startsWith(`${head}WHERE IsActive = true AND Department = 'X' AND Id IN (`)).toBe(true);
        seen.push(...[...q.matchAll(/'(005\w+)'/g)].map((m) => m[1]));
      }
      expect(seen).toEqual(ids);
      // as few as the limit allows: every statement but the last would overflow with one more Id
      for (const q of qs.slice(0, -1)) expect(q.length + 22).toBeGreaterThan(max);
    }
  });

  it('refuses anything but a record Id', () => {
    expect(() => buildUserByIdQueries(['Id'], ['active'], [], ["005000000000001AAA') OR (Id != '"])).toThrow(
      /refusing record Id/,
    );
  });
});
