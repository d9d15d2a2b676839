/**
 * `npm run function`: serves the function locally through the Functions
 * Framework's own request handling (the same push-body to CloudEvent
 * conversion as the deployed runtime), on PORT (default 8081) and on
 * loopback only. The framework's CLI would default to 8080 and listen on
 * every interface.
 */
import {getTestServer} from '@google-cloud/functions-framework/testing';
import {resolveSettings, SettingError} from '../runtime/settings.js';
import {FUNCTION_TARGET} from './index.js';
import {LOCAL_SERVER_SETTINGS} from './settings.js';

function serverSettings() {
  try {
    return resolveSettings(LOCAL_SERVER_SETTINGS);
  } catch (err) {
    if (!(err instanceof SettingError)) throw err;
    process.stderr.write(`ingest function: ${err.message}\n`);
    process.exit(1);
  }
}

const {port, host} = serverSettings();
const server = getTestServer(FUNCTION_TARGET);
server.listen(port, host, () => {
  process.stderr.write(
    `ingest function serving ${FUNCTION_TARGET} on http://${host}:${port}/\n`,
  );
});

// Lets an in-flight delivery finish; Pub/Sub redelivers whatever does not.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
