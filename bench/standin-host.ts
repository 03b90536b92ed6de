/**
 * Child process holding one stand-in (Criminal IP, or OpenCTI behind a latency proxy) for the
 * pipeline benches, so that its work (GraphQL validation, JSON answers, timers) runs beside the
 * product rather than on its event loop, as a remote service would, and the two stand-ins do not
 * delay each other's answers. Driven over the IPC channel by lib/standins-process.ts.
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
    case 'start-criminalip':
      await stop();
      cip = await startCriminalIpStandIn({
        latencyMs: request.latencyMs,
        concurrency: request.concurrency,
        credits: 1_000_000,
      });
      return { url: cip.url, secret: cip.apiKey };
    case 'start-opencti':
      await stop();
      octi = await startOpenCtiStandIn({ token: randomUUID() });
      proxy = request.latencyMs > 0 ? await startLatencyProxy(octi.url, request.latencyMs) : undefined;
      return { url: proxy?.url ?? octi.url, secret: octi.token };
    case 'criminalip-stats':
      return cip?.stats();
    case 'create-works':
      return Array.from({ length: request.count }, () => octi!.createWork(request.connectorId));
    case 'cpu': {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    }
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
