/**
 * Design D, the naive design: every item becomes its own Pub/Sub message,
 * published through @google-cloud/pubsub with the library's default
 * batching, and a stream is answered once all its publishes have resolved.
 * It decodes each item but validates nothing, so it does less than the
 * gateway and still pays one message, and its per-message costs, per item.
 *
 * Environment: PUBSUB_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT, PUBSUB_TOPIC.
 */
import {Server, type ServerReadableStream} from '@grpc/grpc-js';
import {PubSub} from '@google-cloud/pubsub';
import {
  ItemHandlerService,
  type ItemMessage,
  type JoinMessage,
} from '../../generated/items.js';
import {bindAndAnnounce, onTerminate} from './server-process.js';

const projectId = requiredEnv('GOOGLE_CLOUD_PROJECT');
const pubsub = new PubSub({
  projectId,
  apiEndpoint: requiredEnv('PUBSUB_EMULATOR_HOST'),
});
// No batching or flow control options: the library's defaults are the
// point of this design.
const topic = pubsub.topic(requiredEnv('PUBSUB_TOPIC'));
let published = 0;
let failed = 0;

const server = new Server();
server.addService(ItemHandlerService, {
  stream: (
    call: ServerReadableStream<ItemMessage, JoinMessage>,
    callback: (err: Error | null, reply?: JoinMessage) => void,
  ) => {
    const publishes: Promise<string>[] = [];
    call.on('data', (item: ItemMessage) => {
      publishes.push(
        topic.publishMessage({
          data: item.payload,
          attributes: {createdAt: item.createdAt},
        }),
      );
    });
    call.on('end', () => {
      Promise.all(publishes).then(
        () => {
          published += publishes.length;
          callback(null, {id: 'naive'});
        },
        (err: Error) => {
          failed++;
          callback(err);
        },
      );
    });
  },
});
await bindAndAnnounce(server);

onTerminate(async () => {
  server.forceShutdown();
  await pubsub.close();
  return {published, failedStreams: failed};
});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`naive server: ${name} is not set\n`);
    process.exit(1);
  }
  return value;
}
