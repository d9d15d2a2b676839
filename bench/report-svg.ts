/**
 * The run as an SVG chart, drawn by hand: two panels of grouped bars, one
 * group per point and one bar per design. The top panel is items/s on a
 * linear axis; the bottom is CPU µs per item on a log axis (the designs
 * differ by orders of magnitude), the server's part solid and the
 * emulator's stacked on it, lighter. Pure: results in, text out.
 */
import {formatFigure} from './format.js';
import {DESIGNS, type BenchResults, type Design} from './results-model.js';

const COLORS: Record<Design, string> = {
  A: '#4c72b0',
  B: '#55a868',
  C: '#dd8452',
  D: '#c44e52',
};

const WIDTH = 960;
const PANEL_HEIGHT = 260;
const MARGIN = {left: 80, right: 20, top: 40, bottom: 50};
const LEGEND_HEIGHT = 40;

/** One bar: its design, and its solid and stacked values. */
interface Bar {
  design: Design;
  value: number | undefined;
  stacked?: number;
}

/** Renders the chart. */
export function renderSvg(results: BenchResults): string {
  const points = [...new Set(results.measurements.map(m => m.point))];
  const find = (design: Design, point: string) =>
    results.measurements.find(
      m => m.design === design && m.point === point && m.outcome === 'ok',
    );
  const throughput = points.map(point =>
    DESIGNS.map(design => ({
      design,
      value: find(design, point)?.itemsPerSecond,
    })),
  );
  const cpu = points.map(point =>
    DESIGNS.map(design => {
      const m = find(design, point);
      return {
        design,
        value: m?.serverCpuUsPerItem,
        stacked: m?.emulatorCpuUsPerItem,
      };
    }),
  );

  const height = LEGEND_HEIGHT + 2 * PANEL_HEIGHT;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    legend(results),
    panel('items/s', points, throughput, LEGEND_HEIGHT, 'linear'),
    panel(
      'CPU µs per item (server solid, emulator light; log scale)',
      points,
      cpu,
      LEGEND_HEIGHT + PANEL_HEIGHT,
      'log',
    ),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

function legend(results: BenchResults): string {
  const items = DESIGNS.map((design, i) => {
    const x = MARGIN.left + i * 150;
    return (
      `<rect x="${x}" y="14" width="12" height="12" fill="${COLORS[design]}"/>` +
      `<text x="${x + 16}" y="24">${design}</text>`
    );
  });
  const title = escapeXml(
    `${results.date.slice(0, 10)} · ${results.machine.nproc} × ` +
      `${results.machine.cpuModel} · Node ${results.machine.node}`,
  );
  const right = WIDTH - MARGIN.right;
  return (
    `${items.join('')}` +
    `<text x="${right}" y="24" text-anchor="end">${title}</text>`
  );
}

/** One panel of grouped bars at vertical offset `top`. */
function panel(
  title: string,
  points: string[],
  groups: Bar[][],
  top: number,
  scale: 'linear' | 'log',
): string {
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const totals = groups.flat().map(b => (b.value ?? 0) + (b.stacked ?? 0));
  const max = Math.max(1, ...totals);
  const axis = scale === 'linear' ? linearAxis(max) : logAxis(max);
  const y = (value: number) =>
    plotTop + plotHeight * (1 - axis.fraction(value));

  const out = [
    `<text x="${MARGIN.left}" y="${top + 24}" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const tick of axis.ticks) {
    const ty = y(tick);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" ` +
        `y1="${ty}" y2="${ty}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${ty + 4}" text-anchor="end">${formatFigure(tick)}</text>`,
    );
  }

  const groupWidth = plotWidth / Math.max(1, points.length);
  const barWidth = (groupWidth * 0.8) / DESIGNS.length;
  groups.forEach((bars, g) => {
    const groupLeft = MARGIN.left + g * groupWidth + groupWidth * 0.1;
    bars.forEach((bar, i) => {
      const x = groupLeft + i * barWidth;
      if (bar.value === undefined) {
        out.push(
          `<text x="${x + barWidth / 2}" y="${plotTop + plotHeight - 4}" ` +
            'text-anchor="middle" fill="#999">–</text>',
        );
        return;
      }
      const solidTop = y(bar.value);
      out.push(
        rect(x, solidTop, barWidth - 2, y(0) - solidTop, COLORS[bar.design], 1),
      );
      if (bar.stacked !== undefined && bar.stacked > 0) {
        const stackTop = y(bar.value + bar.stacked);
        out.push(
          rect(
            x,
            stackTop,
            barWidth - 2,
            solidTop - stackTop,
            COLORS[bar.design],
            0.4,
          ),
        );
      }
    });
    out.push(
      `<text x="${groupLeft + (barWidth * DESIGNS.length) / 2}" ` +
        `y="${plotTop + plotHeight + 18}" text-anchor="middle">` +
        `${escapeXml(points[g] ?? '')}</text>`,
    );
  });
  return out.join('\n');
}

function rect(
  x: number,
  y: number,
  width: number,
  height: number,
  color: string,
  opacity: number,
): string {
  return (
    `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${width.toFixed(1)}" ` +
    `height="${Math.max(0, height).toFixed(1)}" fill="${color}" fill-opacity="${opacity}"/>`
  );
}

/** An axis: where a value sits (0 bottom, 1 top) and its grid lines. */
export interface Axis {
  fraction(value: number): number;
  ticks: number[];
}

/** 0 to a round number at or above `max`, five steps. */
export function linearAxis(max: number): Axis {
  const step = niceStep(max / 5);
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let tick = 0; tick <= top + step / 2; tick += step) ticks.push(tick);
  return {fraction: value => Math.min(1, Math.max(0, value / top)), ticks};
}

/** Decades from 1 to the power of ten at or above `max`. */
export function logAxis(max: number): Axis {
  const decades = Math.max(1, Math.ceil(Math.log10(max)));
  const ticks = Array.from({length: decades + 1}, (_, i) => 10 ** i);
  return {
    fraction: value =>
      value <= 1 ? 0 : Math.min(1, Math.log10(value) / decades),
    ticks,
  };
}

/** 1, 2 or 5 times a power of ten, at or above `raw`. */
export function niceStep(raw: number): number {
  if (raw <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) {
    if (factor * power >= raw) return factor * power;
  }
  return 10 * power;
}

/** Text safe inside an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
