import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CsvParser } from '../../../connectors/salesforce/csv-parser';
import { checksum } from '../../../pipeline/login-ids';
import { LatestLogins } from '../../../pipeline/latest-logins';
import type { LoginEventRecord } from '../../../pipeline/stages';
import { mulberry32 } from '../../../simulator/prng';

/**
 * Review of session 14's LatestLogins.offer (pipeline/latest-logins.ts): it now copies the user key only
 * when the key itself does not fit ArenaStringMap's arena (`arenaKey(key) ? key : ownCopy(key)`), and the
 * device only when the device does not. But ArenaStringMap.set (kernel/compact-map.ts) keeps the PAIR in its
 * overflow Map, as given, when EITHER does not fit: a key that fits, with a device that does not (a device
 * the compact form cannot hold and whose packed text has a character above U+00FF), is kept as given. The key
 * is `packKey(login.userId)`, which is the userId itself for an Id it cannot pack (an 18-character Id whose
 * suffix is not its checksum: the stage's `id` check, /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/, lets it
 * through), and the userId is a slice of the CSV parser's decoded chunk: each such user keeps its whole page
 * alive. Before the branch both were copied (`ownCopy(packKey(...))`, `ownCopy(device)`).
 * LATEST_LOGINS_REVIEW_S14_SEED replays the random Ids.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const SEED = Number(process.env.LATEST_LOGINS_REVIEW_S14_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PAGES = 20;
const ROWS = 200;
const WIDE = 'w'.repeat(2000);

/** Heap kept by a LatestLogins offered one login a page, its values the parser's (slices of each page). */
function heapKept(userIdOf: (id15: string) => string): { bytes: number; store: LatestLogins } {
  const rand = mulberry32(SEED);
  const id15 = (prefix: string) =>
    prefix + Array.from({ length: 12 }, () => ALNUM[Math.floor(rand() * ALNUM.length)]).join('');
  const store = new LatestLogins(['browser', 'platform']);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let p = 0; p < PAGES; p++) {
    const parser = new CsvParser();
    let page = 'Id,UserId,LoginTime,Status,Browser,Platform,Wide\n';
    for (let r = 0; r < ROWS; r++)
      // a LoginHistory Id in its 15-character form; an application/browser name in Japanese
      page += `${id15('0Ya')},${userIdOf(id15('005'))},1700000000000,Success,日本語ブラウザ ${r},Mac OSX,${WIDE}\n`;
    const rows = parser.push(Buffer.from(page));
    const [, row] = rows; // one login a page is kept
    store.offer({
      id: row[0],
      userId: row[1],
      loginTime: Number(row[2]),
      status: row[3],
      browser: row[4],
      platform: row[5],
    } as unknown as LoginEventRecord);
  }
  gc();
  gc();
  return { bytes: process.memoryUsage().heapUsed - before, store };
}

describe(`LatestLogins.offer keeps no slice of a CSV page (LATEST_LOGINS_REVIEW_S14_SEED=${SEED})`, () => {
  it('a user Id packKey cannot pack, with a device kept whole, does not keep its page alive', () => {
    // the control: a user Id with its checksum (packKey packs it: a fresh 12-character key)
    const packed = heapKept((id) => id + checksum(id));
    // an 18-character Id whose suffix is not its checksum (packKey gives it back as it is)
    const unpacked = heapKept((id) => id + (checksum(id) === 'AAA' ? 'AAB' : 'AAA'));
    expect(packed.store.size).toBe(PAGES);
    expect(unpacked.store.size).toBe(PAGES);
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    console.log(
      `latest-logins-review-s14: kept ${mb(packed.bytes)} MB (packed keys), ${mb(unpacked.bytes)} MB (unpacked)`,
    );
    // 20 pages of ~400 KB of text each (two-byte strings: ~800 KB) would be ~16 MB
    expect({ seed: SEED, unpackedMB: mb(unpacked.bytes) < 4 }).toEqual({ seed: SEED, unpackedMB: true });
  });
});
