/**
 * The gRPC server: items.ItemHandler, health and reflection on one port,
 * plain h2c on all interfaces. Cloud Run terminates TLS in front of it.
 */
import {fileURLToPath} from 'node:url';
import {
  Server,
  ServerCredentials,
  type handleClientStreamingCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import {loadSync} from '@grpc/proto-loader';
import {ReflectionService} from '@grpc/reflection';
import {protoPath as healthProtoPath} from 'grpc-health-check';
import {
  ItemHandlerService,
  type ItemMessage,
  type JoinMessage,
} from '../generated/items.js';
import {decodeItemMessage, type UndecodableItem} from './item-validation.js';
import type {GatewayHealth} from './health.js';
import type {StreamRegistry} from './stream-registry.js';

/** The contract, as shipped beside the code, for reflection. */
const ITEMS_PROTO = fileURLToPath(
  new URL('../../proto/items.proto', import.meta.url),
);

/**
 * The generated service definition with a deserializer that never throws,
 * so an undecodable message reaches the handler as INVALID_ARGUMENT rather
 * than becoming grpc-js's INTERNAL.
 */
const INGEST_SERVICE: ServiceDefinition<{
  stream: handleClientStreamingCall<ItemMessage | UndecodableItem, JoinMessage>;
}> = {
  stream: {...ItemHandlerService.stream, requestDeserialize: decodeItemMessage},
};

/** What the server serves and how. */
export interface ServerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  registry: StreamRegistry;
  health: GatewayHealth;
}

/** Starts the server; resolves with it and the port it is bound to. */
export async function startServer(
  options: ServerOptions,
): Promise<{server: Server; port: number}> {
  const server = new Server({
    // grpc-js ends a call whose message is larger with RESOURCE_EXHAUSTED
    // ("Received message larger than max (N vs M)") before the gateway
    // sees it.
    'grpc.max_receive_message_length': options.maxMessageBytes,
  });
  server.addService(INGEST_SERVICE, {stream: options.registry.handle});
  options.health.implementation.addToServer(server);
  new ReflectionService(
    loadSync([ITEMS_PROTO, healthProtoPath], {keepCase: true}),
  ).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${options.host}:${options.port}`,
      ServerCredentials.createInsecure(),
      (err, bound) => (err === null ? resolve(bound) : reject(err)),
    );
  });
  return {server, port};
}
