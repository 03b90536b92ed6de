/**
 * Serves msw handlers on 127.0.0.1 through @mswjs/http-middleware, because msw cannot intercept
 * undici (docs/aws.md §15). A thin wrapper can drop the next connections, a failure msw handlers
 * cannot express.
 */
import { createServer as createMswApp } from '@mswjs/http-middleware';
import type { RequestHandler } from 'msw';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { Agent } from 'undici';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpIntelSource,
  Semaphore,
  type IntelSourceSettings,
} from '../../lib/criminalip';
import type { Clock } from '../../lib/core/clock';

export interface Loopback {
  url: string;
  /** Destroys the sockets of the next `count` requests without answering. */
  dropNext(count: number): void;
  close(): Promise<void>;
}

export async function serveHandlers(...handlers: RequestHandler[]): Promise<Loopback> {
  const app = createMswApp(...handlers);
  let drops = 0;
  const server = http.createServer((req, res) => {
    if (drops > 0) {
      drops -= 1;
      req.socket.destroy();
      return;
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dropNext(count) {
      drops = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A test dispatcher with short timeouts; close it in afterAll. */
export function testAgent(timeoutMs = 2000): Agent {
  return new Agent({
    keepAliveTimeout: 1000,
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

/** Records the delays the client asked to sleep, without waiting. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/**
 * A CriminalIpIntelSource on `url` as the tests build it: one call at a time, no real waiting
 * between retries, the test's dispatcher and clock.
 */
export function intelSourceAt(
  target: { url: string; apiKey: string },
  settings: IntelSourceSettings,
  options: { dispatcher: Dispatcher; clock: Clock; maxRetries?: number },
): { source: CriminalIpIntelSource; client: CriminalIpClient } {
  const client = new CriminalIpClient(
    {
      apiKey: target.apiKey,
      apiUrl: target.url,
      concurrency: 1,
      timeoutMs: 2000,
      maxRetries: options.maxRetries ?? 2,
    },
    { dispatcher: options.dispatcher, limiter: new Semaphore(1), sleep: recordingSleep().sleep },
  );
  return { source: new CriminalIpIntelSource(new CriminalIpApi(client), settings, options.clock), client };
}
