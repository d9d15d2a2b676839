/**
 * Credentials for talking to a local emulator. The BigQuery client
 * authorizes every request, custom endpoint or not: left alone it would look
 * for Application Default Credentials and, on a developer's machine that has
 * them, send a real Google token to a local port. A fixed placeholder token
 * keeps real credentials out of emulator traffic and skips the search.
 */
import {OAuth2Client} from 'google-auth-library';

const PLACEHOLDER_TOKEN = 'emulator-placeholder-token';

/** An auth client that only ever presents a placeholder token. */
export function emulatorAuthClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({
    access_token: PLACEHOLDER_TOKEN,
    // Far enough ahead that the library never tries to refresh it.
    expiry_date: Date.now() + 100 * 365 * 24 * 3600 * 1000,
  });
  return client;
}
