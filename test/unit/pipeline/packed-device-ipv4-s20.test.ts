import { DeviceCompactor, writeIpv4 } from '../../../pipeline/packed-device';
import { checksum } from '../../../pipeline/login-ids';
import { mulberry32 } from '../../../simulator/prng';

/**
 * The device compactor's IPv4 reader (a scan by character code since session 20) against its former
 * regex form, the oracle: the same verdict and the same four bytes for every string, and a device
 * holding any of them comes back exactly. IPV4_S20_SEED replays.
 */
const SEED = process.env.IPV4_S20_SEED ? Number(process.env.IPV4_S20_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`packed-device ipv4: seed ${SEED} (replay with IPV4_S20_SEED=${SEED})`);

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
function oracle(s: string): number[] | null {
  const m = IPV4_TEXT.exec(s);
  if (!m) return null;
  const bytes: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || String(n) !== m[i]) return null;
    bytes.push(n);
  }
  return bytes;
}

function verdict(s: string): number[] | null {
  const out = Buffer.alloc(8, 0xee);
  return writeIpv4(s, out, 2) ? [...out.subarray(2, 6)] : null;
}

/** Strings near an IPv4 address: parts of 0–4 digits, leading zeros, other separators and characters. */
function nearAddress(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const part = (): string => {
    const r = rand();
    if (r < 0.5) return String(Math.floor(rand() * 256));
    if (r < 0.6) return String(256 + Math.floor(rand() * 800));
    if (r < 0.7) return '0' + String(Math.floor(rand() * 256));
    if (r < 0.8) return '';
    if (r < 0.9) return pick(['00', '000', '0000', '1234', '٣', '１', 'a', ' 1', '1 ', '+1', '-1', '1e2', '0x1']);
    return String(Math.floor(rand() * 10));
  };
  const parts = Array.from({ length: pick([3, 4, 4, 4, 4, 5]) }, part);
  let s = parts.join(rand() < 0.95 ? '.' : pick([',', ':', '..', '\n']));
  if (rand() < 0.05) s = pick(['', ' ', '\n', '.']) + s + pick(['', ' ', '\n', '.']);
  return s;
}

describe('the device compactor reads an IPv4 address as its regex form did', () => {
  it('gives the same verdict and bytes for random strings near an address', () => {
    const rand = mulberry32(SEED);
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) {
      const s = nearAddress(rand);
      const want = oracle(s);
      const got = verdict(s);
      if (JSON.stringify(got) !== JSON.stringify(want))
        throw new Error(`${JSON.stringify(s)}: ${JSON.stringify(got)}, oracle ${JSON.stringify(want)} (seed ${SEED})`);
      if (want) accepted++;
    }
    expect(accepted).toBeGreaterThan(10_000); // the draw reaches both verdicts
  });

  it('gives the same verdict for every part from "" to "0999" in every position', () => {
    const parts = ['', ...Array.from({ length: 1000 }, (_, n) => String(n)), '00', '000', '0000', '01', '001', '099'];
    for (const p of parts)
      for (let pos = 0; pos < 4; pos++) {
        const s = ['1', '22', '255', '0'].map((x, i) => (i === pos ? p : x)).join('.');
        expect([s, verdict(s)]).toEqual([s, oracle(s)]);
      }
  });

  it('keeps every device with such a value exactly (expand(compact(s)) === s)', () => {
    const rand = mulberry32(SEED ^ 0x1b4);
    const compactor = new DeviceCompactor();
    const id = `0Ya0H0Eoq000001${checksum('0Ya0H0Eoq000001')}`; // checksummed: the compact form applies
    let compacted = 0;
    for (let i = 0; i < 20_000; i++) {
      const values = [nearAddress(rand), 'Chrome', null, nearAddress(rand)];
      const packed = `${String(1_700_000_000_000 + i).padStart(15, '0')}${id}\u0000ab12${JSON.stringify(values)}`;
      const compact = compactor.compact(packed);
      if (compact.charCodeAt(0) !== 0) compacted++;
      expect(compactor.expand(compact)).toBe(packed);
    }
    expect(compacted).toBeGreaterThan(15_000); // kept whole only for the values no form holds
  });
});
