/**
 * Design B: the real gateway (startGateway, with its validation, batching,
 * ledger, flow control and logging) whose publishing is replaced by an
 * in-process sink that accepts each batch at once. The difference to design
 * A is what the gateway's own code costs per item.
 *
 * Settings come from the environment as for the real gateway; the bench
 * sets a placeholder project and topic, which nothing uses.
 */
import {createLogger} from '../runtime/logger.js';
import type {BatchSink} from '../gateway/batcher.js';
import type {EncodedBatch} from '../envelope/codec.js';
import {startGateway} from '../gateway/gateway.js';
import {resolveGatewaySettings} from '../gateway/settings.js';
import {announce, onTerminate} from './servers/server-process.js';

/** Accepts every batch at once and counts what it was given. */
export class AcceptingSink implements BatchSink {
  batches = 0;
  bytes = 0;

  publish(batch: EncodedBatch): Promise<string> {
    this.batches++;
    this.bytes += batch.data.byteLength;
    return Promise.resolve(String(this.batches));
  }
}

const isMain = process.argv[1]?.endsWith('gateway-with-sink.js') ?? false;
if (isMain) {
  const settings = resolveGatewaySettings();
  const logger = createLogger({
    service: 'gateway',
    project: settings.project,
    level: settings.logLevel,
  });
  const sink = new AcceptingSink();
  const gateway = await startGateway(settings, logger, {
    sink,
    host: '127.0.0.1',
  });
  announce(gateway.port);

  onTerminate(async () => {
    await gateway.shutdown();
    return {batches: sink.batches, bytes: sink.bytes};
  });
}
