import { inflateSync } from 'node:zlib';
import { encodePng, renderChart, type ChartSpec } from '../../../bench/chart';

type Rgb = [number, number, number];
interface Chunk {
  type: string;
  data: Buffer;
  crc: number;
  crcInput: Buffer;
}
interface Image {
  width: number;
  height: number;
  rgb: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bitwise CRC-32 (IEEE), independent of the table-driven one under test. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (crc & 1 ? 0xedb88320 : 0);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunks(png: Buffer): Chunk[] {
  expect([...png.subarray(0, 8)]).toEqual(SIGNATURE);
  const out: Chunk[] = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    out.push({
      type: png.toString('latin1', offset + 4, offset + 8),
      data: png.subarray(offset + 8, offset + 8 + length),
      crc: png.readUInt32BE(offset + 8 + length),
      crcInput: png.subarray(offset + 4, offset + 8 + length),
    });
    offset += 12 + length;
  }
  return out;
}

/** Decodes the subset of PNG the renderer writes (RGB8, filter 0), checking every CRC on the way. */
function decode(png: Buffer): Image {
  const all = chunks(png);
  for (const c of all) expect(c.crc).toBe(crc32(c.crcInput));
  expect(all.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const header = all[0].data;
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  expect([...header.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
  const raw = inflateSync(all[1].data);
  expect(raw.length).toBe(height * (1 + 3 * width));
  const rgb = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const start = row * (1 + 3 * width);
    expect(raw[start]).toBe(0);
    rgb.set(raw.subarray(start + 1, start + 1 + 3 * width), row * 3 * width);
  }
  return { width, height, rgb };
}

function isColor(img: Image, x: number, y: number, [r, g, b]: Rgb): boolean {
  const i = (y * img.width + x) * 3;
  return img.rgb[i] === r && img.rgb[i + 1] === g && img.rgb[i + 2] === b;
}

function pixelsOf(img: Image, color: Rgb): { x: number; y: number }[] {
  const found: { x: number; y: number }[] = [];
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) if (isColor(img, x, y, color)) found.push({ x, y });
  return found;
}

/** Pixels at least as dark as the text, in rows [top, bottom). */
function darkPixels(img: Image, top: number, bottom: number): number {
  let count = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      if (img.rgb[i] < 128 && img.rgb[i + 1] < 128 && img.rgb[i + 2] < 128) count++;
    }
  }
  return count;
}

/**
 * Centres of the filled markers of a colour, left to right: places where a solid 5x5 block of it
 * is found (2 px lines never make one), grouped when close together.
 */
function markers(img: Image, color: Rgb): { x: number; y: number }[] {
  const solid = pixelsOf(img, color).filter(({ x, y }) => {
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (!isColor(img, x + dx, y + dy, color)) return false;
    return true;
  });
  const groups: { x: number; y: number }[][] = [];
  for (const p of solid) {
    const group = groups.find((g) => Math.abs(g[0].x - p.x) <= 6 && Math.abs(g[0].y - p.y) <= 6);
    if (group) group.push(p);
    else groups.push([p]);
  }
  const mean = (g: { x: number; y: number }[], k: 'x' | 'y') => g.reduce((sum, p) => sum + p[k], 0) / g.length;
  return groups.map((g) => ({ x: mean(g, 'x'), y: mean(g, 'y') })).sort((a, b) => a.x - b.x);
}

const BLUE: Rgb = [31, 119, 180];
const RED: Rgb = [214, 39, 40];
const GREEN: Rgb = [44, 160, 44];
const PURPLE: Rgb = [148, 103, 189];

function twoPanelSpec(over: Partial<ChartSpec> = {}): ChartSpec {
  return {
    title: 'Pipeline throughput and memory',
    xLabel: 'records',
    panels: [
      {
        title: 'throughput, records/s',
        yLabel: 'records/s',
        series: [
          { name: 'extract', color: BLUE, points: [{ x: 1_000_000, y: 50_000 }, { x: 100_000, y: 10_000 }, { x: 200_000, y: 20_000 }] },
          { name: 'reference', color: RED, dashed: true, points: [{ x: 100_000, y: 40_000 }, { x: 1_000_000, y: 5_000 }] },
        ],
      },
      {
        title: 'peak RSS, MB',
        yLabel: 'MB',
        series: [{ name: 'connector', color: GREEN, points: [{ x: 100_000, y: 120 }, { x: 1_000_000, y: 300 }] }],
      },
    ],
    ...over,
  };
}

describe('encodePng', () => {
  const width = 3;
  const height = 2;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
  let png: Buffer;
  beforeAll(() => {
    png = encodePng(width, height, rgb);
  });

  it('checks its own CRC-32 against the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('starts with the PNG signature and an RGB8 IHDR of the given size', () => {
    expect([...png.subarray(0, 8)]).toEqual(SIGNATURE);
    const [ihdr] = chunks(png);
    expect(ihdr.type).toBe('IHDR');
    expect(ihdr.data.length).toBe(13);
    expect(ihdr.data.readUInt32BE(0)).toBe(width);
    expect(ihdr.data.readUInt32BE(4)).toBe(height);
    expect(ihdr.data[8]).toBe(8); // bit depth
    expect(ihdr.data[9]).toBe(2); // colour type RGB
    expect([...ihdr.data.subarray(10)]).toEqual([0, 0, 0]);
  });

  it('writes IHDR, IDAT and IEND, each with a CRC that verifies', () => {
    const all = chunks(png);
    expect(all.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of all) expect(c.crc).toBe(crc32(c.crcInput));
    expect(all[2].data.length).toBe(0);
    expect(all[2].crc).toBe(0xae426082);
  });

  it('stores each row as filter byte 0 followed by the given pixels', () => {
    const raw = inflateSync(chunks(png)[1].data);
    expect(raw.length).toBe(height * (1 + 3 * width));
    expect([...raw]).toEqual([0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
  });

  it('rejects pixel data that does not match the dimensions', () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('renderChart', () => {
  let img: Image;
  beforeAll(() => {
    img = decode(renderChart(twoPanelSpec()));
  });

  it('is about 1000 wide and 320 high per panel by default, and honours an explicit size', () => {
    expect(img.width).toBe(1000);
    expect(img.height).toBeGreaterThanOrEqual(640);
    expect(img.height).toBeLessThan(800);
    const sized = decode(renderChart(twoPanelSpec({ width: 640, height: 900 })));
    expect([sized.width, sized.height]).toEqual([640, 900]);
  });

  it('draws every series in its colour, each within its own panel', () => {
    const half = img.height / 2;
    for (const color of [BLUE, RED]) {
      const pixels = pixelsOf(img, color);
      expect(pixels.length).toBeGreaterThan(100);
      expect(Math.max(...pixels.map((p) => p.y))).toBeLessThan(half);
    }
    const green = pixelsOf(img, GREEN);
    expect(green.length).toBeGreaterThan(100);
    expect(Math.min(...green.map((p) => p.y))).toBeGreaterThan(half);
  });

  it('puts a marker on each point, higher values higher up, larger x further right', () => {
    // The legend sits right of the plot, so the leftmost markers are the data points.
    const [b100k, b200k, b1m] = markers(img, BLUE);
    expect(b100k.x).toBeLessThan(b200k.x);
    expect(b200k.x).toBeLessThan(b1m.x);
    expect(b200k.y).toBeLessThan(b100k.y);
    expect(b1m.y).toBeLessThan(b200k.y);

    const [r100k, r1m] = markers(img, RED);
    expect(r1m.y).toBeGreaterThan(r100k.y);
    // One shared y scale per panel: 40k (red) is above 10k (blue) at the same x.
    expect(Math.abs(r100k.x - b100k.x)).toBeLessThanOrEqual(1);
    expect(r100k.y).toBeLessThan(b100k.y);
    // Points at the same x line up across panels.
    expect(Math.abs(markers(img, GREEN)[0].x - b100k.x)).toBeLessThanOrEqual(1);
  });

  it('draws dark title text at the top, and nothing there without a title', () => {
    expect(darkPixels(img, 0, 40)).toBeGreaterThan(100);
    expect(darkPixels(decode(renderChart(twoPanelSpec({ title: '' }))), 0, 40)).toBe(0);
  });

  it('draws characters outside printable ASCII as boxes', () => {
    expect(darkPixels(decode(renderChart(twoPanelSpec({ title: '\u2713' }))), 0, 40)).toBeGreaterThan(0);
  });

  it('adds the footnote at the bottom, wrapping long ones onto more lines', () => {
    const plain = img;
    const short = decode(renderChart(twoPanelSpec({ footnote: '3 runs' })));
    const long = decode(renderChart(twoPanelSpec({ footnote: 'run at 100k users; '.repeat(30) })));
    expect(darkPixels(short, short.height - 24, short.height)).toBeGreaterThan(0);
    expect(darkPixels(plain, plain.height - 24, plain.height)).toBe(0);
    expect(short.height).toBeGreaterThan(plain.height);
    expect(long.height).toBeGreaterThan(short.height);
  });

  it('centres a single point and skips empty series, legend included', () => {
    const single = decode(
      renderChart({
        title: 'one run',
        xLabel: 'records',
        panels: [
          {
            title: 'throughput',
            yLabel: 'records/s',
            series: [
              { name: 'extract', color: BLUE, points: [{ x: 500_000, y: 1234 }] },
              { name: 'nothing yet', color: PURPLE, points: [] },
            ],
          },
        ],
      }),
    );
    const [marker] = markers(single, BLUE);
    expect(marker.x).toBeGreaterThan(single.width / 3);
    expect(marker.x).toBeLessThan((2 * single.width) / 3);
    expect(pixelsOf(single, PURPLE)).toHaveLength(0);
  });

  it('copes with zeros, no series at all and very different magnitudes', () => {
    const zeros = decode(
      renderChart({
        title: 'zeros',
        xLabel: 'records',
        panels: [
          { title: 'flat', yLabel: 'MB', series: [{ name: 'idle', color: GREEN, points: [{ x: 1, y: 0 }, { x: 2, y: 0 }] }] },
          { title: 'empty', yLabel: 'MB', series: [] },
        ],
      }),
    );
    expect(pixelsOf(zeros, GREEN).length).toBeGreaterThan(0);
    expect(() => decode(renderChart({ title: 'no panels', xLabel: 'records', panels: [] }))).not.toThrow();

    const mixed = decode(
      renderChart({
        title: 'mixed',
        xLabel: 'records',
        panels: [
          {
            title: 'throughput',
            yLabel: 'records/s',
            series: [
              { name: 'fast', color: BLUE, points: [{ x: 1, y: 2_000_000 }, { x: 2, y: 2_500_000 }] },
              { name: 'slow', color: RED, points: [{ x: 1, y: 3 }, { x: 2, y: 5 }] },
            ],
          },
        ],
      }),
    );
    const [fast] = markers(mixed, BLUE);
    const [slow] = markers(mixed, RED);
    expect(slow.y).toBeGreaterThan(fast.y + 100);
  });
});
