/**
 * Clients for the standard services the gateway serves beside ingest, as
 * grpcurl or Cloud Run would use them: health (Check, Watch) and server
 * reflection (list services). Loaded from the .proto files the server
 * packages ship, with @grpc/proto-loader.
 */
import {join} from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {loadSync} from '@grpc/proto-loader';
import {protoPath as healthProtoPath} from 'grpc-health-check';
import {repoRoot} from '../../../local/paths.js';

interface HealthReply {
  status: string;
}

interface HealthStub extends Client {
  check(
    request: {service: string},
    callback: (err: ServiceError | null, reply?: HealthReply) => void,
  ): void;
  watch(request: {service: string}): ClientReadableStream<HealthReply>;
}

interface ReflectionReply {
  listServicesResponse?: {service: {name: string}[]};
}

interface ReflectionStub extends Client {
  serverReflectionInfo(): ClientDuplexStream<
    {listServices: string},
    ReflectionReply
  >;
}

type StubConstructor<T> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => T;

function service<T>(protoFile: string, path: string[]): StubConstructor<T> {
  let node: unknown = loadPackageDefinition(
    loadSync(protoFile, {enums: String}),
  );
  for (const part of path) {
    node = (node as Record<string, unknown>)[part];
  }
  return node as StubConstructor<T>;
}

/** Health checking of the server at 127.0.0.1:`port`. */
export class HealthProbe {
  private readonly stub: HealthStub;
  constructor(port: number) {
    const Health = service<HealthStub>(healthProtoPath, [
      'grpc',
      'health',
      'v1',
      'Health',
    ]);
    this.stub = new Health(`127.0.0.1:${port}`, credentials.createInsecure());
  }

  /** The serving status of `serviceName`, as Check reports it. */
  check(serviceName: string): Promise<string> {
    return new Promise((resolve, reject) =>
      this.stub.check({service: serviceName}, (err, reply) =>
        err === null ? resolve(reply?.status ?? '') : reject(err),
      ),
    );
  }

  /** Every status Watch reports for `serviceName`, as it arrives. */
  watch(serviceName: string): {statuses: string[]; cancel(): void} {
    const statuses: string[] = [];
    const call = this.stub.watch({service: serviceName});
    call.on('data', (reply: HealthReply) => statuses.push(reply.status));
    call.on('error', () => {});
    return {statuses, cancel: () => call.cancel()};
  }

  close(): void {
    this.stub.close();
  }
}

/** The service names server reflection lists at 127.0.0.1:`port`. */
export async function reflectedServices(port: number): Promise<string[]> {
  const protoFile = join(
    repoRoot(),
    'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
  );
  const Reflection = service<ReflectionStub>(protoFile, [
    'grpc',
    'reflection',
    'v1',
    'ServerReflection',
  ]);
  const stub = new Reflection(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
  );
  try {
    const call = stub.serverReflectionInfo();
    const reply = new Promise<string[]>((resolve, reject) => {
      call.once('data', (response: ReflectionReply) =>
        resolve(
          (response.listServicesResponse?.service ?? []).map(s => s.name),
        ),
      );
      call.once('error', reject);
    });
    call.write({listServices: '*'});
    call.end();
    return await reply;
  } finally {
    stub.close();
  }
}
