/**
 * SVG line charts for the benchmark scripts: text that any browser, GitHub and the editor's
 * preview render, so no image encoder or font is needed.
 *
 * A chart is a title, one or more panels stacked vertically and an optional footnote. Each
 * panel plots its series against a y scale of its own that starts at 0 and has "nice" ticks;
 * the panels share one linear x axis whose ticks are the distinct x values of all the points
 * (record counts).
 */

export interface ChartSeries {
  name: string;
  color: [number, number, number];
  points: { x: number; y: number }[];
  dashed?: boolean;
}
export interface ChartPanel {
  title: string;
  yLabel: string;
  series: ChartSeries[];
}
export interface ChartSpec {
  title: string;
  xLabel: string;
  panels: ChartPanel[];
  width?: number;
  height?: number;
  footnote?: string;
}

type Rgb = readonly [number, number, number];
type Point = { x: number; y: number };
interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const TEXT: Rgb = [34, 34, 34];
const MUTED: Rgb = [96, 96, 96];
const AXIS: Rgb = [68, 68, 68];
const GRID: Rgb = [228, 228, 228];
const LEGEND_BORDER: Rgb = [176, 176, 176];

const DEFAULT_WIDTH = 1000;
const PANEL_HEIGHT = 320;
const HEADER_HEIGHT = 44;
const MARGIN = 16;
const Y_TICK_GUTTER = 64; // room left of the plot for the y tick labels
const PLOT_TOP_OFFSET = 56; // panel title and y label sit above the plot
const PLOT_BOTTOM_OFFSET = 48; // x tick labels and x label sit below it
const X_PADDING = 28; // keeps the first and last markers off the plot edges
const MARKER_RADIUS = 4;
const DASH_ON = 8;
const DASH_OFF = 6;
const LEGEND_PADDING = 8;
const LEGEND_ROW_HEIGHT = 16;
const LEGEND_SWATCH = 24;
const FOOTNOTE_LINE_HEIGHT = 11;

/** Renders the chart and returns the SVG document. */
export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? DEFAULT_WIDTH;
  const footnote = spec.footnote ? wrapText(spec.footnote, width - 2 * MARGIN, 1) : [];
  const footerHeight = MARGIN + footnote.length * FOOTNOTE_LINE_HEIGHT;
  const height = spec.height ?? HEADER_HEIGHT + spec.panels.length * PANEL_HEIGHT + footerHeight;
  const panelsBottom = height - footerHeight;
  const panelHeight = spec.panels.length ? Math.floor((panelsBottom - HEADER_HEIGHT) / spec.panels.length) : 0;

  // All panels share one x axis, so their plots line up whatever their legends hold.
  const panels = spec.panels.map((panel) => ({ ...panel, series: plottableSeries(panel.series) }));
  const legendWidth = Math.max(0, ...panels.map((panel) => measureLegend(panel.series)));
  const plotLeft = Y_TICK_GUTTER;
  const plotRight = width - MARGIN - (legendWidth ? legendWidth + MARGIN : 0);
  const xValues = distinctXs(panels.flatMap((panel) => panel.series));
  const xAxis: XAxis = { values: xValues, label: spec.xLabel, project: xProjection(xValues, plotLeft, plotRight) };

  const canvas = new Svg(width, height);
  canvas.text(spec.title, Math.round((width - textWidth(spec.title, 2)) / 2), 16, TEXT, 2);
  panels.forEach((panel, i) => {
    const top = HEADER_HEIGHT + i * panelHeight;
    const plot = {
      left: plotLeft,
      right: plotRight,
      top: top + PLOT_TOP_OFFSET,
      bottom: top + panelHeight - PLOT_BOTTOM_OFFSET,
    };
    drawPanel(canvas, panel, plot, xAxis);
  });
  footnote.forEach((line, i) =>
    canvas.text(line, MARGIN, panelsBottom + MARGIN / 2 + i * FOOTNOTE_LINE_HEIGHT, MUTED, 1),
  );
  return canvas.document();
}

// ---------------------------------------------------------------------------------------------
// Panels

interface XAxis {
  values: number[];
  label: string;
  project: (x: number) => number;
}

/** Draws one panel around its plot area; its series are already plottable. */
function drawPanel(canvas: Svg, panel: ChartPanel, plot: Rect, xAxis: XAxis): void {
  canvas.text(panel.title, plot.left, plot.top - PLOT_TOP_OFFSET + 14, TEXT, 2);
  canvas.text(panel.yLabel, MARGIN, plot.top - 20, MUTED, 1);

  const yTicks = niceTicks(Math.max(0, ...panel.series.flatMap((s) => s.points.map((p) => p.y))));
  const toY = yProjection(yTicks[yTicks.length - 1], plot);
  drawYAxis(canvas, plot, yTicks, toY);
  drawXAxis(canvas, plot, xAxis);
  for (const s of panel.series) drawSeries(canvas, s, (p) => [xAxis.project(p.x), toY(p.y)]);
  if (panel.series.length) drawLegend(canvas, panel.series, plot.right + MARGIN, plot.top);
}

/** Drops series without points, and points that cannot be placed, and orders points by x. */
function plottableSeries(series: ChartSeries[]): ChartSeries[] {
  return series
    .map((s) => ({
      ...s,
      points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x),
    }))
    .filter((s) => s.points.length > 0);
}

function distinctXs(series: ChartSeries[]): number[] {
  return [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
}

/** Ticks from 0 in steps of 1, 2, 2.5 or 5 × 10^k: four to six of them, the last at or above max. */
function niceTicks(max: number): number[] {
  const top = max > 0 ? max : 1;
  const rough = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const intervals = Math.ceil(top / step - 1e-9);
  return Array.from({ length: intervals + 1 }, (_, i) => i * step);
}

/** 1500000 → "1.5M", 12000 → "12k", 300 → "300". */
function formatCompact(value: number): string {
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  const unit = units.find(([size]) => Math.abs(value) >= size);
  return unit ? `${trimDecimals(value / unit[0])}${unit[1]}` : trimDecimals(value);
}

function trimDecimals(value: number): string {
  return String(Number(value.toFixed(2)));
}

function yProjection(top: number, plot: Rect): (y: number) => number {
  return (y) => Math.round(plot.bottom - (y / top) * (plot.bottom - plot.top));
}

/** Linear over the distinct x values; a single value sits in the middle of the plot. */
function xProjection(xs: number[], plotLeft: number, plotRight: number): (x: number) => number {
  const min = xs[0];
  const max = xs[xs.length - 1];
  if (xs.length < 2) {
    const middle = Math.round((plotLeft + plotRight) / 2);
    return () => middle;
  }
  const left = plotLeft + X_PADDING;
  const span = plotRight - X_PADDING - left;
  return (x) => Math.round(left + ((x - min) / (max - min)) * span);
}

function drawYAxis(canvas: Svg, plot: Rect, ticks: number[], toY: (y: number) => number): void {
  for (const tick of ticks) {
    const y = toY(tick);
    canvas.fillRect(plot.left, y, plot.right - plot.left + 1, 1, GRID);
    canvas.fillRect(plot.left - 4, y, 4, 1, AXIS);
    const label = formatCompact(tick);
    canvas.text(label, plot.left - 8 - textWidth(label, 1), y - Math.floor(GLYPH_HEIGHT / 2), TEXT, 1);
  }
  canvas.fillRect(plot.left, plot.top, 1, plot.bottom - plot.top + 1, AXIS);
}

function drawXAxis(canvas: Svg, plot: Rect, axis: XAxis): void {
  canvas.fillRect(plot.left, plot.bottom, plot.right - plot.left + 1, 1, AXIS);
  let lastLabelRight = -Infinity;
  for (const x of axis.values) {
    const px = axis.project(x);
    canvas.fillRect(px, plot.bottom + 1, 1, 4, AXIS);
    const label = formatCompact(x);
    const left = px - Math.round(textWidth(label, 1) / 2);
    if (left <= lastLabelRight + 4) continue; // would overlap its neighbour
    canvas.text(label, left, plot.bottom + 9, TEXT, 1);
    lastLabelRight = left + textWidth(label, 1);
  }
  canvas.text(
    axis.label,
    Math.round((plot.left + plot.right - textWidth(axis.label, 1)) / 2),
    plot.bottom + 27,
    MUTED,
    1,
  );
}

function drawSeries(canvas: Svg, series: ChartSeries, project: (p: Point) => [number, number]): void {
  const pixels = series.points.map(project);
  for (let i = 1; i < pixels.length; i++) {
    canvas.line(pixels[i - 1][0], pixels[i - 1][1], pixels[i][0], pixels[i][1], series.color, series.dashed ?? false);
  }
  for (const [x, y] of pixels) canvas.disc(x, y, MARKER_RADIUS, series.color);
}

/** Width of the legend box for these series; 0 when there are none (and so no box). */
function measureLegend(series: ChartSeries[]): number {
  if (series.length === 0) return 0;
  const longest = Math.max(...series.map((s) => textWidth(s.name, 1)));
  return 2 * LEGEND_PADDING + LEGEND_SWATCH + 6 + longest;
}

function drawLegend(canvas: Svg, series: ChartSeries[], left: number, top: number): void {
  const width = measureLegend(series);
  const height = 2 * LEGEND_PADDING + (series.length - 1) * LEGEND_ROW_HEIGHT + GLYPH_HEIGHT;
  canvas.strokeRect(left, top, width, height, LEGEND_BORDER);
  series.forEach((s, i) => {
    const rowTop = top + LEGEND_PADDING + i * LEGEND_ROW_HEIGHT;
    const swatchLeft = left + LEGEND_PADDING;
    canvas.line(swatchLeft, rowTop + 3, swatchLeft + LEGEND_SWATCH, rowTop + 3, s.color, s.dashed ?? false);
    canvas.disc(swatchLeft + LEGEND_SWATCH / 2, rowTop + 3, MARKER_RADIUS - 1, s.color);
    canvas.text(s.name, swatchLeft + LEGEND_SWATCH + 6, rowTop, TEXT, 1);
  });
}

// ---------------------------------------------------------------------------------------------
// SVG

/** Text metrics of the chart's font (11 px sans-serif at scale 1): an average glyph box. */
const GLYPH_WIDTH = 6;
const GLYPH_HEIGHT = 8;

function textWidth(text: string, scale: number): number {
  return text.length * GLYPH_WIDTH * scale;
}

/** Splits text into lines that fit `width` at `scale`, breaking at spaces. */
function wrapText(text: string, width: number, scale: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, scale) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

const rgb = (c: Rgb) => `rgb(${c[0]},${c[1]},${c[2]})`;
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Collects SVG elements with the same drawing calls the chart makes; `document()` is the file. */
class Svg {
  private readonly parts: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  fillRect(left: number, top: number, width: number, height: number, color: Rgb): void {
    this.parts.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="${rgb(color)}"/>`);
  }

  strokeRect(left: number, top: number, width: number, height: number, color: Rgb): void {
    this.parts.push(
      `<rect x="${left + 0.5}" y="${top + 0.5}" width="${width - 1}" height="${height - 1}" ` +
        `fill="none" stroke="${rgb(color)}"/>`,
    );
  }

  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, dashed: boolean): void {
    const dash = dashed ? ` stroke-dasharray="${DASH_ON} ${DASH_OFF}"` : '';
    this.parts.push(
      `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y1}" stroke="${rgb(color)}" stroke-width="2"${dash}/>`,
    );
  }

  disc(x: number, y: number, radius: number, color: Rgb): void {
    this.parts.push(`<circle cx="${x}" cy="${y}" r="${radius}" fill="${rgb(color)}"/>`);
  }

  /** Text whose top-left corner is at (left, top); scale 1 is 11 px, 2 is 22 px. */
  text(text: string, left: number, top: number, color: Rgb, scale: number): void {
    const size = 11 * scale;
    this.parts.push(
      `<text x="${left}" y="${top + GLYPH_HEIGHT * scale}" font-size="${size}" ` +
        `fill="${rgb(color)}">${escape(text)}</text>`,
    );
  }

  document(): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" ` +
        `viewBox="0 0 ${this.width} ${this.height}" font-family="sans-serif">`,
      `<rect width="${this.width}" height="${this.height}" fill="#fff"/>`,
      ...this.parts,
      '</svg>',
      '',
    ].join('\n');
  }
}
