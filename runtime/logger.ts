/**
 * Structured JSON logging that Cloud Logging reads (severity, message,
 * timestamp, serviceContext). Log lines carry ids, counts, sizes and
 * durations; never item payloads.
 */
import {pino, type Logger} from 'pino';
import {createGcpLoggingPinoConfig} from '@google-cloud/pino-logging-gcp-config';

export type {Logger};

/** Log levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * TODO: @google-cloud/pino-logging-gcp-config loads all of
 * @google-cloud/logging for what is a handful of pino formatters (severity,
 * message key, timestamp, serviceContext, stack_trace, insertId): 14 MB of
 * the gateway's 16 MB of loaded heap and ~28 MB of RSS per process, and
 * longer cold starts. Plain pino options would do; the benchmark measured
 * no CPU gain from the swap (docs/benchmark.md), so it was left for now.
 *
 * Creates the process's root logger. The service name and project are
 * passed explicitly: left out, the GCP config would probe the metadata server
 * at start-up, which stalls off Google Cloud.
 */
export function createLogger(options: {
  service: string;
  project: string;
  level: LogLevel;
  destination?: pino.DestinationStream;
}): Logger {
  const config = createGcpLoggingPinoConfig(
    {
      serviceContext: {service: options.service},
      traceGoogleCloudProjectId: options.project,
      inihibitDiagnosticMessage: true,
    },
    {level: options.level},
  );
  return options.destination === undefined
    ? pino(config)
    : pino(config, options.destination);
}
