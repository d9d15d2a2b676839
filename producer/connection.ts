/**
 * Turns a `--target` into a grpc-js client. A local gateway is plain h2c;
 * a Cloud Run URL gets TLS and a Google ID token per call, because the
 * deployed gateway admits only callers with the run.invoker role.
 */
import {credentials, Metadata, type ChannelCredentials} from '@grpc/grpc-js';
import {GoogleAuth} from 'google-auth-library';
import {ItemHandlerClient} from '../generated/items.js';

/** A parsed target: where to connect and how. */
export interface Target {
  /** host:port for grpc-js. */
  address: string;
  tls: boolean;
  /** Audience of the ID token, or undefined for no token. */
  audience: string | undefined;
}

/**
 * Parses `host:port`, `https://host[:port]`, or a Cloud Run URL. An https
 * URL implies TLS on port 443 and an ID token for that URL's origin.
 */
export function parseTarget(
  raw: string,
  overrides: {tls?: boolean; idToken?: boolean} = {},
): Target {
  if (/^https?:\/\//.test(raw)) {
    const url = new URL(raw);
    const tls = overrides.tls ?? url.protocol === 'https:';
    const port = url.port || (tls ? '443' : '80');
    const wantsToken = overrides.idToken ?? tls;
    return {
      address: `${url.hostname}:${port}`,
      tls,
      audience: wantsToken ? url.origin : undefined,
    };
  }
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(raw)) {
    throw new Error(
      `--target ${JSON.stringify(raw)} is neither host:port nor an https URL`,
    );
  }
  const tls = overrides.tls ?? raw.endsWith(':443');
  const audience =
    (overrides.idToken ?? false)
      ? `https://${raw.replace(/:443$/, '')}`
      : undefined;
  return {address: raw, tls, audience};
}

/** A client for the target, with ID-token call credentials when needed. */
export function connect(target: Target): ItemHandlerClient {
  let channel: ChannelCredentials = target.tls
    ? credentials.createSsl()
    : credentials.createInsecure();
  if (target.audience !== undefined) {
    channel = credentials.combineChannelCredentials(
      channel,
      idTokenCredentials(target.audience),
    );
  }
  return new ItemHandlerClient(target.address, channel, {
    // Items are small and many; keep the connection warm across streams.
    'grpc.keepalive_time_ms': 30_000,
  });
}

function idTokenCredentials(audience: string) {
  const auth = new GoogleAuth();
  const client = auth.getIdTokenClient(audience);
  return credentials.createFromMetadataGenerator((_params, callback) => {
    client
      .then(idClient => idClient.getRequestHeaders())
      .then(headers => {
        const metadata = new Metadata();
        const value = headers.get('authorization');
        if (value !== null) metadata.set('authorization', value);
        callback(null, metadata);
      })
      .catch((err: unknown) =>
        callback(err instanceof Error ? err : new Error(String(err))),
      );
  });
}
