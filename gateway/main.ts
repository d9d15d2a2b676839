/**
 * The gateway process: resolve the settings (a bad one prints one line and
 * exits 1), start the gateway, and on SIGTERM or SIGINT drain and exit 0.
 */
import {createLogger} from '../runtime/logger.js';
import {SettingError} from '../runtime/settings.js';
import {startGateway} from './gateway.js';
import {resolveGatewaySettings, type GatewaySettings} from './settings.js';

function settingsOrExit(): GatewaySettings {
  try {
    return resolveGatewaySettings();
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    process.stderr.write(`gateway: refusing to start: ${err.message}\n`);
    process.exit(1);
  }
}

const settings = settingsOrExit();
const logger = createLogger({
  service: 'gateway',
  project: settings.project,
  level: settings.logLevel,
});
const gateway = await startGateway(settings, logger);
logger.info(
  {port: gateway.port, topic: settings.topic, emulator: settings.emulatorHost},
  'gateway listening',
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({signal}, 'gateway received signal');
    void gateway.shutdown().then(() => process.exit(0));
  });
}
