/** Both stand-ins on loopback and a configuration pointing at them, for the end-to-end tests. */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../lib/config';
import { listenMessage } from '../../lib/local/demo-messages';
import { startCriminalIpStandIn, type CriminalIpStandIn } from '../../lib/standins/criminalip';
import { startOpenCtiStandIn, type OpenCtiStandIn, type StandInPlatform } from '../../lib/standins/opencti';
import type { ObservableStixType } from '../../lib/stix/core';
import type { TlpLevel } from '../../lib/config';

export const CONNECTOR_ID = '5d0c6a2e-7b1f-4e8a-9c3d-2f4e6a8b0c1d';

export interface World {
  cip: CriminalIpStandIn;
  octi: OpenCtiStandIn;
  dataDir: string;
  /** Configuration pointing at both stand-ins, PORT 0, DATA_DIR the temp folder. */
  config(extra?: Record<string, string>): Config;
  close(): Promise<void>;
}

/** Both stand-ins; OpenCTI plays `platform` (6.9.17 unless told otherwise). */
export async function startWorld(platform: StandInPlatform = '6.9.17'): Promise<World> {
  const cip = await startCriminalIpStandIn();
  const octi = await startOpenCtiStandIn(platform === '6.9.17' ? { token: randomUUID() } : { platform });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cip-octi-test-'));
  return {
    cip,
    octi,
    dataDir,
    config: (extra = {}) =>
      loadConfig({
        CRIMINALIP_API_KEY: cip.apiKey,
        CRIMINALIP_API_URL: cip.url,
        OPENCTI_URL: octi.url,
        OPENCTI_TOKEN: octi.token,
        CONNECTOR_ID,
        PORT: '0',
        DATA_DIR: dataDir,
        CRIMINALIP_SCAN_POLL_SECONDS: '1',
        ...extra,
      }),
    async close() {
      await cip.close();
      await octi.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates the work as OpenCTI does, then POSTs the listen message as its worker does: with the
 * connector token on 6.9, with a JWT signed by the platform key on 7.x.
 */
export async function postListen(
  world: World,
  url: string,
  observable: {
    type: ObservableStixType;
    value: string;
    tlp?: TlpLevel;
    mode?: 'manual' | 'auto';
    trigger?: 'create' | 'update';
  },
): Promise<{ workId: string; status: number }> {
  const workId = world.octi.createWork(CONNECTOR_ID);
  const response = await fetch(`${url}/opencti/callback`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await world.octi.callbackCredential()}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(listenMessage({ workId, ...observable })),
  });
  await response.arrayBuffer();
  return { workId, status: response.status };
}

/** Polls `condition` until it holds; fails the test after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
