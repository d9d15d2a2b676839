/**
 * How Pub/Sub delivers batches to the function: the push subscription's
 * acknowledgement deadline, retry backoff and dead-letter policy. The local
 * stack applies these values; infra/settings.env.example holds the same
 * defaults for a deployment.
 */
export const SUBSCRIPTION_POLICY = {
  /**
   * A batch of 500 rows inserts in well under a second; 60 s leaves room
   * for BigQuery's slow moments before Pub/Sub assumes the push failed.
   */
  ackDeadlineSeconds: 60,
  /** First redelivery of a failed batch: quick enough for a blip. */
  minimumBackoffSeconds: 1,
  /** Longest pause between redeliveries during a long outage. */
  maximumBackoffSeconds: 60,
  /**
   * Deliveries before Pub/Sub moves a batch to the dead-letter topic. Only
   * a batch that keeps failing transiently gets there; poison messages are
   * dead-lettered by the function itself on the first delivery.
   */
  maxDeliveryAttempts: 10,
} as const;
