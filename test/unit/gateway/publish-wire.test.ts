import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import fc from 'fast-check';
import {loadSync, type MethodDefinition} from '@grpc/proto-loader';
import {
  decodePublishResponse,
  encodePublishRequest,
  PUBLISH_METHOD,
} from '../../../gateway/publish-wire.js';
import {repoRoot} from '../../harness/paths.js';

interface PublishRequest {
  topic: string;
  messages: {data: Buffer; attributes: Record<string, string>}[];
}

/**
 * The Publish method as the client library defines it: its own copy of
 * google/pubsub/v1/pubsub.proto, loaded with the protobufjs encoder it uses.
 */
function libraryPublishMethod(): MethodDefinition<
  PublishRequest,
  {messageIds: string[]}
> {
  const modules = join(repoRoot(), 'node_modules');
  const definition = loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: [
      join(modules, '@google-cloud/pubsub/build/protos'),
      join(modules, 'google-gax/build/protos'),
    ],
  });
  const service = definition['google.pubsub.v1.Publisher'];
  if (service === undefined || !('Publish' in service)) {
    throw new Error('google.pubsub.v1.Publisher/Publish not found');
  }
  return service.Publish as MethodDefinition<
    PublishRequest,
    {messageIds: string[]}
  >;
}

const publish = libraryPublishMethod();

describe('Pub/Sub Publish encoding', () => {
  it('names the method the client library calls', () => {
    assert.equal(PUBLISH_METHOD, publish.path);
  });

  it('writes the request the library decodes back to the same topic, data and attributes', () => {
    const request = encodePublishRequest(
      'projects/p/topics/t',
      Buffer.from([0, 1, 0xff]),
      {b: '2', a: '1'},
    );
    assert.deepEqual(publish.requestDeserialize(request), {
      topic: 'projects/p/topics/t',
      messages: [
        {
          data: Buffer.from([0, 1, 0xff]),
          attributes: {a: '1', b: '2'},
        },
      ],
    });
  });

  it('gives the bytes the library would send, for any topic, data and attributes', () => {
    fc.assert(
      fc.property(
        fc.string({minLength: 1, maxLength: 300}),
        fc.uint8Array({maxLength: 70_000}),
        fc.dictionary(fc.string({minLength: 1}), fc.string()),
        (topic, data, attributes) => {
          const ours = encodePublishRequest(topic, data, attributes);
          const theirs = publish.requestSerialize({
            topic,
            messages: [{data: Buffer.from(data), attributes}],
          });
          assert.equal(ours.toString('hex'), theirs.toString('hex'));
        },
      ),
      {numRuns: 300},
    );
  });

  it('reads the message ids of a response, skipping fields it does not know', () => {
    const encoded = publish.responseSerialize({messageIds: ['17', 'x']});
    assert.deepEqual(decodePublishResponse(encoded), ['17', 'x']);

    // Field 9, varint 150, then field 1 "7": a newer service's extra field.
    const withUnknown = Buffer.from([0x48, 0x96, 0x01, 0x0a, 0x01, 0x37]);
    assert.deepEqual(decodePublishResponse(withUnknown), ['7']);
    assert.deepEqual(decodePublishResponse(Buffer.alloc(0)), []);
  });

  it('throws on a truncated response rather than reading a wrong id', () => {
    const truncated = Buffer.from([0x0a, 0x05, 0x31, 0x32]);
    assert.throws(() => decodePublishResponse(truncated), RangeError);
  });
});
