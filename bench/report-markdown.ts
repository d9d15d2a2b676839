/**
 * The run as a markdown page: machine and date, the ratios beside their
 * targets, then every figure of every design and point, then the insert
 * path. Pure: results in, text out.
 */
import {MEMORY_POINT, SCALE_POINTS} from './checks.js';
import {formatFigure} from './format.js';
import {RATIO_POINT, targetsMet} from './ratios.js';
import {
  DESIGN_NAMES,
  type BenchResults,
  type Measurement,
  type Ratios,
} from './results-model.js';

/** The columns of the measurements table, in order. */
const COLUMNS: {title: string; value: (m: Measurement) => string}[] = [
  {title: 'design', value: m => m.design},
  {title: 'point', value: m => m.point},
  {title: 'outcome', value: m => m.outcome},
  {title: 'items', value: m => formatFigure(m.items)},
  {title: 'items/s', value: m => formatFigure(m.itemsPerSecond)},
  {title: 'MB/s', value: m => formatFigure(m.megabytesPerSecond)},
  {title: 'stream p50 ms', value: m => formatFigure(m.streamP50Ms)},
  {title: 'stream p99 ms', value: m => formatFigure(m.streamP99Ms)},
  {title: 'server CPU µs/item', value: m => formatFigure(m.serverCpuUsPerItem)},
  {title: 'server peak RSS MB', value: m => formatFigure(m.serverPeakRssMb)},
  {
    title: 'emulator CPU µs/item',
    value: m => formatFigure(m.emulatorCpuUsPerItem),
  },
  {
    title: 'Pub/Sub msgs per 10^6 items',
    value: m => formatFigure(m.messagesPerMillionItems),
  },
  {
    title: 'load gen CPU µs/item',
    value: m => formatFigure(m.loadGeneratorCpuUsPerItem),
  },
  {title: 'note', value: m => escapeCell(m.note ?? '')},
];

/** Renders the whole page. */
export function renderMarkdown(results: BenchResults): string {
  const {machine} = results;
  const met = targetsMet(results.ratios);
  const lines = [
    `# Benchmark results${results.quick ? ' (quick)' : ''}`,
    '',
    `Run ${results.date} on ${machine.nproc} × ${machine.cpuModel}, ` +
      `Node ${machine.node}; load average ${machine.loadAverageStart.toFixed(2)} ` +
      `at the start, ${machine.loadAverageEnd.toFixed(2)} at the end.`,
    '',
    `## Ratios at ${RATIO_POINT} (higher is better)`,
    '',
    '| ratio | value | target | met |',
    '|---|---|---|---|',
  ];
  for (const key of Object.keys(results.ratios) as (keyof Ratios)[]) {
    const verdict = met[key] === null ? '–' : met[key] ? 'yes' : 'no';
    lines.push(
      `| ${key} | ${formatFigure(results.ratios[key])} ` +
        `| ≥ ${results.targets[key]} | ${verdict} |`,
    );
  }

  lines.push('', '## Other targets', '');
  const rss = results.checks.gatewayPeakRssMbAt64Streams;
  lines.push(
    `- Gateway (C) peak RSS at ${MEMORY_POINT}: ${formatFigure(rss)} MB ` +
      `(target ≤ 256 MB${rss === null ? '' : rss <= 256 ? ', met' : ', not met'}).`,
  );
  for (const [design, flat] of Object.entries(results.checks.cpuFlatness)) {
    const spread = flat.spreadPercent;
    lines.push(
      `- ${design} server CPU µs/item at ${SCALE_POINTS.join(' / ')}: ` +
        `${flat.cpuUsPerItem.map(formatFigure).join(' / ')}, spread ` +
        `${spread === null ? '–' : `${spread.toFixed(0)} %`} (target ≤ 10 %).`,
    );
  }

  lines.push('', '## Every design at every point', '');
  for (const [design, name] of Object.entries(DESIGN_NAMES)) {
    lines.push(`- **${design}**: ${name}`);
  }
  lines.push('');
  lines.push(`| ${COLUMNS.map(c => c.title).join(' | ')} |`);
  lines.push(`|${COLUMNS.map(() => '---').join('|')}|`);
  for (const m of results.measurements) {
    lines.push(`| ${COLUMNS.map(c => c.value(m)).join(' | ')} |`);
  }

  lines.push(
    '',
    '## Insert path into the BigQuery emulator',
    '',
    '| mode | outcome | rows | requests | rows/s | client CPU µs/row ' +
      '| emulator CPU µs/row | note |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const m of results.insertPath) {
    lines.push(
      `| ${m.mode} | ${m.outcome} | ${formatFigure(m.rows)} | ` +
        `${formatFigure(m.requests)} | ${formatFigure(m.rowsPerSecond)} | ` +
        `${formatFigure(m.clientCpuUsPerRow)} | ` +
        `${formatFigure(m.emulatorCpuUsPerRow)} | ${escapeCell(m.note ?? '')} |`,
    );
  }

  if (results.notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const note of results.notes) lines.push(`- ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A table cell's text: pipes escaped, newlines flattened. */
export function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll(/\s*\n\s*/g, ' ');
}
