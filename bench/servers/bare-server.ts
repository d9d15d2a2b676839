/**
 * Design A, the wire limit: a grpc-js server for items.ItemHandler/Stream
 * that takes every message off the wire and discards it undecoded, replying
 * once the client half-closes. Nothing a real server must do (decode,
 * validate, batch, publish) is done, so its CPU per item is the floor any
 * design on grpc-js pays just to receive.
 */
import {Server, type ServiceDefinition} from '@grpc/grpc-js';
import {ItemHandlerService} from '../../generated/items.js';
import {bindAndAnnounce, onTerminate} from './server-process.js';

let itemsRead = 0;

/** The generated definition, but the request stays the raw bytes. */
const BARE_SERVICE: ServiceDefinition = {
  stream: {...ItemHandlerService.stream, requestDeserialize: bytes => bytes},
};

const server = new Server();
server.addService(BARE_SERVICE, {
  stream: (
    call: NodeJS.EventEmitter,
    callback: (err: null, reply: {id: string}) => void,
  ) => {
    call.on('data', () => itemsRead++);
    call.on('end', () => callback(null, {id: 'bare'}));
  },
});
await bindAndAnnounce(server);

onTerminate(async () => {
  server.forceShutdown();
  return {itemsRead};
});
