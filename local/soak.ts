/**
 * `npm run soak`: a bounded soak of the whole local stack on free ports.
 * By default 200 concurrent streams for 60 s; see SOAK_SETTINGS in
 * local/soak-run.ts for every knob. Prints a table and exits 1 when any
 * acknowledged item is missing from the dedup view or any item is there
 * twice, 2 on a bad setting.
 */
import {SettingError} from '../runtime/settings.js';
import {formatSoakReport, resolveSoakSettings, runSoak} from './soak-run.js';

let settings;
try {
  settings = resolveSoakSettings();
} catch (err) {
  if (!(err instanceof SettingError)) throw err;
  process.stderr.write(`soak: ${err.message}\n`);
  process.exit(2);
}

const report = await runSoak(settings, line =>
  process.stderr.write(`soak: ${line}\n`),
);
process.stdout.write(`${formatSoakReport(report)}\n`);
const failed = report.lost > 0 || report.duplicates > 0;
process.stdout.write(
  failed
    ? `FAILED: ${report.lost} acknowledged items lost, ` +
        `${report.duplicates} duplicates\n`
    : 'OK: every acknowledged item is in the view once\n',
);
process.exitCode = failed ? 1 : 0;
