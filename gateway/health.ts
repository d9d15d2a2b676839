/**
 * The standard gRPC health service (grpc.health.v1.Health), so Cloud Run's
 * gRPC probes and grpcurl can ask whether the instance takes streams. Both
 * the server as a whole ('') and items.ItemHandler are reported.
 */
import {HealthImplementation} from 'grpc-health-check';

/** Fully qualified name of the ingest service. */
export const ITEM_HANDLER_SERVICE = 'items.ItemHandler';

const SERVICES = ['', ITEM_HANDLER_SERVICE] as const;

/** The health of the instance, SERVING until shutdown begins. */
export class GatewayHealth {
  readonly implementation = new HealthImplementation(
    Object.fromEntries(SERVICES.map(name => [name, 'SERVING' as const])),
  );

  /** Reports NOT_SERVING for every service; watchers are told at once. */
  markDraining(): void {
    for (const name of SERVICES) {
      this.implementation.setStatus(name, 'NOT_SERVING');
    }
  }
}
