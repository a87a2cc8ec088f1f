import { renderChart, type ChartSpec } from '../../../bench/chart';

type Rgb = [number, number, number];
const BLUE: Rgb = [31, 119, 180];
const RED: Rgb = [214, 39, 40];
const GREEN: Rgb = [44, 160, 44];

/** The attributes of every element of a kind, read from the SVG text. */
function elements(svg: string, tag: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag} ([^>]*?)/?>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
}
const colour = (c: Rgb) => `rgb(${c.join(',')})`;
/** The data markers of one colour, left to right (the legend's smaller marker excluded). */
const markers = (svg: string, c: Rgb) =>
  elements(svg, 'circle')
    .filter((e) => e.fill === colour(c) && e.r === '4')
    .map((e) => ({ x: Number(e.cx), y: Number(e.cy) }))
    .sort((a, b) => a.x - b.x);
const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

function twoPanelSpec(over: Partial<ChartSpec> = {}): ChartSpec {
  return {
    title: 'Pipeline throughput and memory',
    xLabel: 'records',
    panels: [
      {
        title: 'throughput, records/s',
        yLabel: 'records/s',
        series: [
          {
            name: 'extract',
            color: BLUE,
            points: [
              { x: 1_000_000, y: 50_000 },
              { x: 100_000, y: 10_000 },
              { x: 200_000, y: 20_000 },
            ],
          },
          {
            name: 'reference',
            color: RED,
            dashed: true,
            points: [
              { x: 100_000, y: 40_000 },
              { x: 1_000_000, y: 5_000 },
            ],
          },
        ],
      },
      {
        title: 'peak RSS, MB',
        yLabel: 'MB',
        series: [
          {
            name: 'connector',
            color: GREEN,
            points: [
              { x: 100_000, y: 120 },
              { x: 1_000_000, y: 300 },
            ],
          },
        ],
      },
    ],
    ...over,
  };
}

describe('renderChart (SVG)', () => {
  const svg = renderChart(twoPanelSpec());
  const size = (s: string) => elements(s, 'svg')[0];

  it('is one SVG document, about 1000 wide and 320 high per panel by default, or the size asked for', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(Number(size(svg).width)).toBe(1000);
    expect(Number(size(svg).height)).toBeGreaterThanOrEqual(640);
    expect(Number(size(svg).height)).toBeLessThan(800);
    const sized = renderChart(twoPanelSpec({ width: 640, height: 900 }));
    expect([size(sized).width, size(sized).height]).toEqual(['640', '900']);
  });

  it('puts a marker on each point: higher values higher up, larger x further right, one x axis for all panels', () => {
    const [b100k, b200k, b1m] = markers(svg, BLUE);
    expect(b100k.x).toBeLessThan(b200k.x);
    expect(b200k.x).toBeLessThan(b1m.x);
    expect(b200k.y).toBeLessThan(b100k.y);
    expect(b1m.y).toBeLessThan(b200k.y);
    const [r100k, r1m] = markers(svg, RED);
    expect(r1m.y).toBeGreaterThan(r100k.y);
    expect(r100k.x).toBe(b100k.x);
    expect(r100k.y).toBeLessThan(b100k.y); // one y scale per panel
    const green = markers(svg, GREEN);
    expect(green[0].x).toBe(b100k.x);
    expect(Math.min(...green.map((p) => p.y))).toBeGreaterThan(Math.max(b100k.y, r1m.y)); // second panel is below
  });

  it('joins the points of a series with lines in its colour, dashed when asked', () => {
    const lines = elements(svg, 'line');
    const blue = lines.filter((l) => l.stroke === colour(BLUE) && !l['stroke-dasharray']);
    const red = lines.filter((l) => l.stroke === colour(RED));
    expect(blue.length).toBeGreaterThanOrEqual(2);
    expect(red.length).toBeGreaterThanOrEqual(1);
    expect(red.every((l) => l['stroke-dasharray'])).toBe(true);
  });

  it('writes the titles, the legend and nice y ticks as text, escaped', () => {
    const t = texts(renderChart(twoPanelSpec({ title: 'a < b & c' })));
    expect(t).toEqual(
      expect.arrayContaining([
        'a &lt; b &amp; c',
        'throughput, records/s',
        'extract',
        'reference',
        'connector',
        '50k',
        '100k',
        '1M',
      ]),
    );
  });

  it('wraps a long footnote onto several lines at the bottom', () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const withNote = renderChart(twoPanelSpec({ footnote: long }));
    const noteLines = texts(withNote).filter((x) => x.startsWith('word'));
    expect(noteLines.length).toBeGreaterThan(1);
    expect(noteLines.join(' ')).toBe(long);
  });

  it('centres a single point, skips empty series and copes with no series at all', () => {
    const one = renderChart({
      title: 't',
      xLabel: 'x',
      panels: [
        {
          title: 'p',
          yLabel: 'y',
          series: [
            { name: 'only', color: BLUE, points: [{ x: 5, y: 0 }] },
            { name: 'empty', color: RED, points: [] },
          ],
        },
      ],
    });
    expect(markers(one, BLUE)).toHaveLength(1);
    expect(texts(one)).not.toContain('empty');
    expect(() =>
      renderChart({ title: 't', xLabel: 'x', panels: [{ title: 'p', yLabel: 'y', series: [] }] }),
    ).not.toThrow();
  });
});
