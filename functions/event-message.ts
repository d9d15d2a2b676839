/**
 * Reads the Pub/Sub message out of the CloudEvent the function receives.
 * Two deliveries reach it, and this is the one file that knows both:
 *
 * - Eventarc sends a CloudEvent whose data is the MessagePublishedData
 *   `{message: {data, attributes, messageId, publishTime}, subscription}`.
 * - A push subscription posts the raw push body `{message, subscription}`;
 *   the Functions Framework marshals it into the same CloudEvent type, but
 *   drops `subscription` and takes the topic from the request path (so the
 *   push endpoint should end in `/projects/P/topics/T` for a useful
 *   `source`). The official Pub/Sub emulator delivers this way, and adds
 *   snake_case twins (`message_id`, `publish_time`) that are read as a
 *   fallback only.
 *
 * The framework only marshals a push body whose `message.data` is not
 * empty; an empty message never reaches this code (see docs/function.md).
 */
import type {CloudEvent} from '@google-cloud/functions-framework';

/** One Pub/Sub message, as the rest of the function sees it. */
export interface BatchMessage {
  /** The message data, base64-decoded. */
  data: Buffer;
  attributes: Record<string, string>;
  /** Pub/Sub's id; with the CloudEvent id as fallback it is never empty. */
  messageId: string;
  /** RFC 3339 publish time, when the delivery carried one. */
  publishTime: string | undefined;
  /** Full subscription name; Eventarc sends it, framework-marshalled pushes do not. */
  subscription: string | undefined;
}

/**
 * The event does not hold a Pub/Sub message at all. Like a corrupt
 * envelope, redelivering it cannot help, so it is dead-lettered.
 */
export class EventShapeError extends Error {
  override name = 'EventShapeError';
  constructor(
    readonly reason: string,
    /** The event's data, to keep in the dead-letter row. */
    readonly eventData: unknown,
  ) {
    super(reason);
  }
}

/** Extracts the message; throws EventShapeError if there is none. */
export function messageFromEvent(event: CloudEvent<unknown>): BatchMessage {
  const envelope = asRecord(event.data);
  const message = asRecord(envelope?.message);
  if (message === undefined) {
    throw new EventShapeError(
      `event ${event.id} of type ${event.type} has no data.message`,
      event.data,
    );
  }

  const encoded = message.data ?? '';
  if (typeof encoded !== 'string') {
    throw new EventShapeError(
      `event ${event.id}: data.message.data is a ${typeof encoded}, ` +
        'expected a base64 string',
      event.data,
    );
  }

  return {
    data: Buffer.from(encoded, 'base64'),
    attributes: stringRecord(message.attributes),
    messageId:
      stringOf(message.messageId) ?? stringOf(message.message_id) ?? event.id,
    publishTime:
      stringOf(message.publishTime) ??
      stringOf(message.publish_time) ??
      event.time,
    subscription: stringOf(envelope?.subscription),
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Attributes are string to string; anything else in them is dropped. */
function stringRecord(value: unknown): Record<string, string> {
  const record = asRecord(value) ?? {};
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(record)) {
    if (typeof entry === 'string') result[key] = entry;
  }
  return result;
}
