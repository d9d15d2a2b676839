/**
 * `npm run local`: the whole pipeline on this machine, until Ctrl-C or
 * SIGTERM, which stop everything it started. The gateway's and the
 * function's JSON logs are shown, prefixed with their names.
 */
import {SettingError} from '../runtime/settings.js';
import {setSignalHandling} from './processes.js';
import {resolveLocalSettings} from './settings.js';
import {PortInUseError, startStack} from './stack.js';

setSignalHandling('caller');

function fail(message: string): never {
  process.stderr.write(`local: ${message}\n`);
  process.exit(1);
}

let settings;
try {
  settings = resolveLocalSettings();
} catch (err) {
  if (err instanceof SettingError) fail(err.message);
  throw err;
}

const stopRequested = new Promise<NodeJS.Signals>(resolve => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});

let stack;
try {
  stack = await startStack(settings, {
    say: line => process.stderr.write(`local: ${line}\n`),
    echoLogs: true,
  });
} catch (err) {
  if (err instanceof PortInUseError) fail(err.message);
  fail(err instanceof Error ? err.message : String(err));
}

const {endpoints} = stack;
process.stdout.write(
  [
    '',
    `gateway   grpc://${endpoints.gateway}  (items.ItemHandler/Stream)`,
    `function  ${endpoints.function}`,
    `pubsub    ${endpoints.pubsub}  (PUBSUB_EMULATOR_HOST)`,
    `bigquery  ${endpoints.bigquery}  (dataset ${settings.dataset}, ` +
      `view ${settings.dedupView})`,
    '',
    `try: npm run produce -- --target ${endpoints.gateway} --items 1000 --streams 4`,
    'local stack ready; Ctrl-C stops it',
    '',
  ].join('\n'),
);

const signal = await stopRequested;
process.stderr.write(`local: ${signal}, stopping\n`);
await stack.stop();
process.stderr.write('local: stopped\n');
