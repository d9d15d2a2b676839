/**
 * The gateway assembled: flow control, batcher, sink, stream registry,
 * health and the gRPC server, wired from resolved settings. main.ts runs it
 * as a process; tests and the benchmark run it in-process and may swap the
 * Pub/Sub sink for their own.
 */
import type {Server} from '@grpc/grpc-js';
import type {Logger} from '../runtime/logger.js';
import {Batcher, type BatchSink} from './batcher.js';
import {FlowControl} from './flow-control.js';
import {GatewayHealth} from './health.js';
import {PubSubSink} from './publisher.js';
import {startServer} from './server.js';
import type {GatewaySettings} from './settings.js';
import {StreamRegistry} from './stream-registry.js';

/** Time kept back from the grace period to stop the server and exit. */
const EXIT_MARGIN_MS = 500;

/** A running gateway. */
export interface Gateway {
  /** The port the server is bound to (useful when PORT was 0). */
  readonly port: number;
  readonly flowControl: FlowControl;
  readonly registry: StreamRegistry;
  readonly health: GatewayHealth;
  /**
   * Drains as on SIGTERM: health NOT_SERVING, new calls UNAVAILABLE, every
   * received item published, each stream ended with its reply or
   * UNAVAILABLE, the server stopped; all within the shutdown grace period.
   */
  shutdown(): Promise<void>;
}

/** Starts a gateway; `sink` replaces publishing to Pub/Sub when given. */
export async function startGateway(
  settings: GatewaySettings,
  logger: Logger,
  options: {sink?: BatchSink; host?: string} = {},
): Promise<Gateway> {
  const pubsub =
    options.sink === undefined
      ? new PubSubSink({
          projectId: settings.project,
          topic: settings.topic,
          emulatorHost: settings.emulatorHost,
          publishTimeoutMs: settings.publishTimeoutMs,
          batchMaxBytes: settings.batchMaxBytes,
          logger,
        })
      : undefined;
  const sink = options.sink ?? pubsub;
  if (sink === undefined) throw new Error('no sink');

  const flowControl = new FlowControl(settings.maxInflightBytes);
  const batcher = new Batcher({
    maxItems: settings.batchMaxItems,
    maxBytes: settings.batchMaxBytes,
    maxDelayMs: settings.batchMaxDelayMs,
    compression: settings.batchCompression,
    publishTimeoutMs: settings.publishTimeoutMs,
    publishMaxConcurrent: settings.publishMaxConcurrent,
    sink,
    flowControl,
    logger,
  });
  const registry = new StreamRegistry({settings, batcher, flowControl, logger});
  const health = new GatewayHealth();
  const {server, port} = await startServer({
    host: options.host ?? '0.0.0.0',
    port: settings.port,
    maxMessageBytes: settings.maxMessageBytes,
    registry,
    health,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      const startedMs = Date.now();
      const deadlineMs = startedMs + settings.shutdownGraceMs - EXIT_MARGIN_MS;
      logger.info({activeStreams: registry.activeCount}, 'gateway draining');
      health.markDraining();

      await registry.drain(deadlineMs);
      await untilDeadline(batcher.drain(), deadlineMs);
      await stopServer(server, deadlineMs);
      await untilDeadline(pubsub?.close() ?? Promise.resolve(), deadlineMs);
      logger.info(
        {
          durationMs: Date.now() - startedMs,
          publishing: batcher.publishingCount,
        },
        'gateway stopped',
      );
    })();
    return stopping;
  };

  return {port, flowControl, registry, health, shutdown};
}

/** Waits for `work`, but never past `deadlineMs`. */
async function untilDeadline(
  work: Promise<unknown>,
  deadlineMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>(resolve => {
    timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
  });
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    late,
  ]);
  clearTimeout(timer);
}

/** Lets calls still open finish until `deadlineMs`, then cuts them. */
async function stopServer(server: Server, deadlineMs: number): Promise<void> {
  const graceful = new Promise<void>(resolve =>
    server.tryShutdown(() => resolve()),
  );
  await untilDeadline(graceful, deadlineMs);
  server.forceShutdown();
}
