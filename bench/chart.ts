/**
 * Dependency-free PNG line charts for the benchmark scripts.
 *
 * A chart is a title, one or more panels stacked vertically and an optional footnote. Each
 * panel plots its series against a y scale of its own that starts at 0 and has "nice" ticks;
 * the panels share one linear x axis whose ticks are the distinct x values of all the points
 * (record counts). Text is drawn with an embedded 5x7 bitmap font, and the image is written as
 * an 8-bit RGB PNG using only node:zlib.
 */
import { deflateSync } from 'node:zlib';

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

/** Renders the chart and returns the PNG file's bytes. */
export function renderChart(spec: ChartSpec): Buffer {
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

  const canvas = new Canvas(width, height);
  canvas.text(spec.title, Math.round((width - textWidth(spec.title, 2)) / 2), 16, TEXT, 2);
  panels.forEach((panel, i) => {
    const top = HEADER_HEIGHT + i * panelHeight;
    const plot = { left: plotLeft, right: plotRight, top: top + PLOT_TOP_OFFSET, bottom: top + panelHeight - PLOT_BOTTOM_OFFSET };
    drawPanel(canvas, panel, plot, xAxis);
  });
  footnote.forEach((line, i) => canvas.text(line, MARGIN, panelsBottom + MARGIN / 2 + i * FOOTNOTE_LINE_HEIGHT, MUTED, 1));
  return encodePng(width, height, canvas.pixels);
}

// ---------------------------------------------------------------------------------------------
// Panels

interface XAxis {
  values: number[];
  label: string;
  project: (x: number) => number;
}

/** Draws one panel around its plot area; its series are already plottable. */
function drawPanel(canvas: Canvas, panel: ChartPanel, plot: Rect, xAxis: XAxis): void {
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
    .map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x) }))
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

function drawYAxis(canvas: Canvas, plot: Rect, ticks: number[], toY: (y: number) => number): void {
  for (const tick of ticks) {
    const y = toY(tick);
    canvas.fillRect(plot.left, y, plot.right - plot.left + 1, 1, GRID);
    canvas.fillRect(plot.left - 4, y, 4, 1, AXIS);
    const label = formatCompact(tick);
    canvas.text(label, plot.left - 8 - textWidth(label, 1), y - Math.floor(GLYPH_HEIGHT / 2), TEXT, 1);
  }
  canvas.fillRect(plot.left, plot.top, 1, plot.bottom - plot.top + 1, AXIS);
}

function drawXAxis(canvas: Canvas, plot: Rect, axis: XAxis): void {
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
  canvas.text(axis.label, Math.round((plot.left + plot.right - textWidth(axis.label, 1)) / 2), plot.bottom + 27, MUTED, 1);
}

function drawSeries(canvas: Canvas, series: ChartSeries, project: (p: Point) => [number, number]): void {
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

function drawLegend(canvas: Canvas, series: ChartSeries[], left: number, top: number): void {
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
// Raster

/** An RGB8 image, white to start with; drawing outside it is clipped. */
class Canvas {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, color: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(color, (y * this.width + x) * 3);
  }

  fillRect(left: number, top: number, width: number, height: number, color: Rgb): void {
    for (let y = top; y < top + height; y++) for (let x = left; x < left + width; x++) this.set(x, y, color);
  }

  strokeRect(left: number, top: number, width: number, height: number, color: Rgb): void {
    this.fillRect(left, top, width, 1, color);
    this.fillRect(left, top + height - 1, width, 1, color);
    this.fillRect(left, top, 1, height, color);
    this.fillRect(left + width - 1, top, 1, height, color);
  }

  /**
   * Bresenham between integer points, with a 2x2 brush reaching up and right of each point (so
   * a line at y = 0 sits on the x axis, not under it); dashed lines skip every other run of pixels.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, dashed: boolean): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let error = dx + dy;
    for (let x = x0, y = y0, step = 0; ; step++) {
      if (!dashed || step % (DASH_ON + DASH_OFF) < DASH_ON) this.fillRect(x, y - 1, 2, 2, color);
      if (x === x1 && y === y1) return;
      const doubled = 2 * error;
      if (doubled >= dy) {
        error += dy;
        x += sx;
      }
      if (doubled <= dx) {
        error += dx;
        y += sy;
      }
    }
  }

  disc(cx: number, cy: number, radius: number, color: Rgb): void {
    for (let y = -radius; y <= radius; y++) {
      for (let x = -radius; x <= radius; x++) if (x * x + y * y <= radius * radius + radius) this.set(cx + x, cy + y, color);
    }
  }

  /** Draws text with its top-left corner at (left, top), each font pixel a scale × scale block. */
  text(text: string, left: number, top: number, color: Rgb, scale: number): void {
    let x = left;
    for (const char of text) {
      const glyphTop = top + (DESCENDERS.includes(char) ? 2 * scale : 0);
      glyphRows(char).forEach((bits, row) => {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (bits & (1 << (GLYPH_WIDTH - 1 - col))) this.fillRect(x + col * scale, glyphTop + row * scale, scale, scale, color);
        }
      });
      x += GLYPH_ADVANCE * scale;
    }
  }
}

function textWidth(text: string, scale: number): number {
  return [...text].length * GLYPH_ADVANCE * scale;
}

/** Greedy word wrap; explicit line breaks are kept. */
function wrapText(text: string, maxWidth: number, scale: number): string[] {
  return text.split('\n').flatMap((paragraph) => {
    const lines: string[] = [];
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (line && textWidth(candidate, scale) > maxWidth) {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    lines.push(line);
    return lines;
  });
}

// ---------------------------------------------------------------------------------------------
// Font: 5x7 glyphs for printable ASCII (32..126), one 5-bit mask per row, top row first,
// most significant bit on the left. The descenders are drawn two rows lower, so that their
// bowls sit on the x-height and their tails hang below the baseline.

const GLYPH_WIDTH = 5;
const GLYPH_HEIGHT = 7;
const GLYPH_ADVANCE = 6;
const DESCENDERS = 'gpqy';
const UNKNOWN_GLYPH = [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f];

function glyphRows(char: string): readonly number[] {
  const code = char.codePointAt(0) ?? 0;
  return code >= 32 && code <= 126 ? FONT[code - 32] : UNKNOWN_GLYPH;
}

const FONT: readonly (readonly number[])[] = [
  [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // space
  [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04], // !
  [0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00], // "
  [0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a], // #
  [0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04], // $
  [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], // %
  [0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d], // &
  [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00], // '
  [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02], // (
  [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], // )
  [0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00], // *
  [0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00], // +
  [0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08], // ,
  [0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00], // -
  [0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c], // .
  [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00], // /
  [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], // 0
  [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e], // 1
  [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], // 2
  [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e], // 3
  [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], // 4
  [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e], // 5
  [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], // 6
  [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08], // 7
  [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], // 8
  [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c], // 9
  [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00], // :
  [0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08], // ;
  [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02], // <
  [0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00], // =
  [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08], // >
  [0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04], // ?
  [0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e], // @
  [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11], // A
  [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e], // B
  [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], // C
  [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c], // D
  [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], // E
  [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10], // F
  [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], // G
  [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11], // H
  [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], // I
  [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c], // J
  [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], // K
  [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f], // L
  [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], // M
  [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11], // N
  [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], // O
  [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10], // P
  [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], // Q
  [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11], // R
  [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], // S
  [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], // T
  [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], // U
  [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04], // V
  [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], // W
  [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11], // X
  [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], // Y
  [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f], // Z
  [0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e], // [
  [0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00], // \
  [0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e], // ]
  [0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00], // ^
  [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f], // _
  [0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00], // `
  [0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f], // a
  [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e], // b
  [0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e], // c
  [0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f], // d
  [0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e], // e
  [0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08], // f
  [0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e], // g
  [0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11], // h
  [0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e], // i
  [0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c], // j
  [0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12], // k
  [0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], // l
  [0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11], // m
  [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11], // n
  [0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e], // o
  [0x1e, 0x11, 0x11, 0x11, 0x1e, 0x10, 0x10], // p
  [0x0f, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x01], // q
  [0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10], // r
  [0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e], // s
  [0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06], // t
  [0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d], // u
  [0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04], // v
  [0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a], // w
  [0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11], // x
  [0x11, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e], // y
  [0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f], // z
  [0x03, 0x04, 0x04, 0x18, 0x04, 0x04, 0x03], // {
  [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], // |
  [0x18, 0x04, 0x04, 0x03, 0x04, 0x04, 0x18], // }
  [0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00], // ~
];

// ---------------------------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CRC_TABLE = buildCrcTable();

/** Encodes width × height RGB8 pixels (row-major, no padding) as a PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG dimensions must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`expected ${width * height * 3} bytes of RGB for ${width}x${height}, got ${rgb.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB (compression, filter and interlace stay 0)
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(scanlines(width, height, rgb))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Each row prefixed with filter type 0 (none). */
function scanlines(width: number, height: number, rgb: Uint8Array): Buffer {
  const stride = width * 3;
  const out = Buffer.alloc(height * (stride + 1));
  for (let row = 0; row < height; row++) out.set(rgb.subarray(row * stride, (row + 1) * stride), row * (stride + 1) + 1);
  return out;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
