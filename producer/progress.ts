/**
 * Progress display: a one-line bar redrawn in place on a terminal, and
 * nothing but the final summary when output goes to a file or a pipe.
 */
import type {Progress} from './produce.js';

const BAR_WIDTH = 24;

/** Returns the onProgress callback for a stream (usually stderr). */
export function progressPrinter(
  out: NodeJS.WriteStream,
  totalItems: number,
): (progress: Progress) => void {
  if (!out.isTTY) return () => {};
  return progress => {
    out.write(`\r${progressLine(progress, totalItems)}\x1b[K`);
  };
}

/** One line: bar, items, items/s, MB/s, streams done. */
export function progressLine(progress: Progress, totalItems: number): string {
  const fraction = totalItems === 0 ? 1 : progress.itemsSent / totalItems;
  const filled = Math.round(Math.min(1, fraction) * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
  const seconds = Math.max(progress.elapsedMs / 1000, 1e-3);
  const itemsPerSecond = Math.round(progress.itemsSent / seconds);
  const mbPerSecond = (progress.bytesSent / 1e6 / seconds).toFixed(2);
  const failed =
    progress.streamsFailed > 0 ? `, ${progress.streamsFailed} failed` : '';
  return (
    `[${bar}] ${progress.itemsSent}/${totalItems} items, ` +
    `${itemsPerSecond} items/s, ${mbPerSecond} MB/s, ` +
    `streams ${progress.streamsDone}/${progress.streamsTotal} done${failed}`
  );
}
