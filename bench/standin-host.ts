/**
 * Child process holding the Criminal IP and OpenCTI stand-ins for the pipeline benches, so that
 * their work (GraphQL validation, JSON answers) runs beside the product rather than on its event
 * loop, as remote services would. Driven over the IPC channel by lib/standins-process.ts.
 */
import { randomUUID } from 'node:crypto';
import { startCriminalIpStandIn, type CriminalIpStandIn } from '../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn } from '../lib/standins/opencti';
import { startLatencyProxy, type LatencyProxy } from './lib/latency-proxy';
import type { HostReply, HostRequest } from './lib/standins-process';

let cip: CriminalIpStandIn | undefined;
let octi: OpenCtiStandIn | undefined;
let proxy: LatencyProxy | undefined;

async function stop(): Promise<void> {
  await proxy?.close();
  await cip?.close();
  await octi?.close();
  proxy = undefined;
  cip = undefined;
  octi = undefined;
}

async function answer(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'start': {
      await stop();
      cip = await startCriminalIpStandIn({
        latencyMs: request.criminalIp.latencyMs,
        concurrency: request.criminalIp.concurrency,
        credits: 1_000_000,
      });
      octi = await startOpenCtiStandIn({ token: randomUUID() });
      proxy = request.openCtiLatencyMs > 0 ? await startLatencyProxy(octi.url, request.openCtiLatencyMs) : undefined;
      return { criminalIpUrl: cip.url, criminalIpKey: cip.apiKey, openCtiUrl: proxy?.url ?? octi.url, openCtiToken: octi.token };
    }
    case 'criminalIpStats':
      return cip?.stats();
    case 'createWorks':
      return Array.from({ length: request.count }, () => octi!.createWork(request.connectorId));
    case 'openCtiCounts':
      return { requests: octi?.requests.length ?? 0, pushes: octi?.pushes().length ?? 0 };
    case 'stop':
      await stop();
      return null;
  }
}

process.on('message', (message: HostRequest) => {
  answer(message).then(
    (result) => process.send?.({ id: message.id, result } satisfies HostReply),
    (error: unknown) => process.send?.({ id: message.id, error: String(error) } satisfies HostReply),
  );
});
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
