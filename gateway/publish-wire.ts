/**
 * The two messages of google.pubsub.v1.Publisher/Publish the gateway sends
 * and reads, encoded by hand for the one shape it uses: a PublishRequest
 * with a single PubsubMessage of data and attributes, and the
 * PublishResponse's message ids.
 *
 * Why not the client library's encoder: it re-encodes the envelope into a
 * protobufjs request (one more copy of every batch, on top of the gateway's
 * and grpc-js's), after a per-call set-up that cost the gateway more CPU
 * than validating and batching the items (docs/benchmark.md). Field numbers
 * are those of google/pubsub/v1/pubsub.proto; a unit test checks these
 * bytes against the library's own definitions.
 */
import {BinaryReader, BinaryWriter, WireType} from '@bufbuild/protobuf/wire';

/** gRPC path of the method, as the service registers it. */
export const PUBLISH_METHOD = '/google.pubsub.v1.Publisher/Publish';

// google.pubsub.v1.PublishRequest
const REQUEST_TOPIC = 1;
const REQUEST_MESSAGES = 2;
// google.pubsub.v1.PubsubMessage
const MESSAGE_DATA = 1;
const MESSAGE_ATTRIBUTES = 2;
// map<string, string> entries
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
// google.pubsub.v1.PublishResponse
const RESPONSE_MESSAGE_IDS = 1;

/**
 * Most bytes a request adds around the data: the topic path (at most ~300
 * bytes: a 30-character project, a 255-character topic), tags, lengths and
 * the envelope's three short attributes, with room to spare.
 */
export const REQUEST_OVERHEAD_MAX_BYTES = 4 * 1024;

/**
 * PublishRequest{topic, messages: [{data, attributes}]}. `data` is copied
 * once, into the buffer `allocate` gives (every byte of it is written);
 * attributes go in the object's own order, as protobufjs writes a map.
 */
export function encodePublishRequest(
  topicPath: string,
  data: Uint8Array,
  attributes: Readonly<Record<string, string>>,
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  // Nested messages written with fork()/join() would copy `data` once per
  // level; instead the bytes around it are encoded apart and the three
  // parts joined once.
  const attributeEntries = new BinaryWriter();
  for (const [key, value] of Object.entries(attributes)) {
    attributeEntries
      .tag(MESSAGE_ATTRIBUTES, WireType.LengthDelimited)
      .fork()
      .tag(ENTRY_KEY, WireType.LengthDelimited)
      .string(key)
      .tag(ENTRY_VALUE, WireType.LengthDelimited)
      .string(value)
      .join();
  }
  const trailer = attributeEntries.finish();

  const dataHeader = new BinaryWriter()
    .tag(MESSAGE_DATA, WireType.LengthDelimited)
    .uint32(data.byteLength)
    .finish();
  const messageLength =
    dataHeader.byteLength + data.byteLength + trailer.byteLength;
  const header = new BinaryWriter()
    .tag(REQUEST_TOPIC, WireType.LengthDelimited)
    .string(topicPath)
    .tag(REQUEST_MESSAGES, WireType.LengthDelimited)
    .uint32(messageLength)
    .raw(dataHeader)
    .finish();

  // header already ends with the data field's tag and length.
  const out = allocate(
    header.byteLength + data.byteLength + trailer.byteLength,
  );
  out.set(header, 0);
  out.set(data, header.byteLength);
  out.set(trailer, header.byteLength + data.byteLength);
  return out;
}

/**
 * The message ids of a PublishResponse. Unknown fields are skipped, as
 * protobuf requires, so a newer service can add fields; a malformed
 * message throws.
 */
export function decodePublishResponse(bytes: Uint8Array): string[] {
  const reader = new BinaryReader(bytes);
  const ids: string[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (
      field === RESPONSE_MESSAGE_IDS &&
      wireType === WireType.LengthDelimited
    ) {
      ids.push(reader.string());
    } else {
      reader.skip(wireType, field);
    }
  }
  return ids;
}
