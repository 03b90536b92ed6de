/** Shared set-up for the OpenCTI tests: the full schema, settings and a client for a stand-in. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import { buildSchema, type GraphQLSchema } from 'graphql';
import type { OpenCtiSettings } from '../../lib/config';
import { createOpenCtiClient, type OpenCtiClient, type OpenCtiClientOptions } from '../../lib/opencti/client';
import type { OpenCtiStandIn } from '../../lib/standins/opencti';

export const FULL_SCHEMA_SDL = readFileSync(
  path.resolve(__dirname, '../fixtures/reference/opencti/opencti-6.9.17.schema.graphql'),
  'utf8',
);

let full: GraphQLSchema | undefined;
export function fullSchema(): GraphQLSchema {
  full ??= buildSchema(FULL_SCHEMA_SDL);
  return full;
}

export const CONNECTOR_ID = '7b1f4a52-93c6-4d2e-8d55-3c1d2f0a9e11';

export function settingsFor(standIn: Pick<OpenCtiStandIn, 'url' | 'token'>): OpenCtiSettings {
  return {
    url: standIn.url,
    token: standIn.token,
    connectorId: CONNECTOR_ID,
    connectorName: 'Criminal IP',
    scope: ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'],
    auto: false,
    maxTlp: 'TLP:AMBER',
    callbackUrl: 'https://hooks.example.org/opencti/callback',
    timeoutMs: 5000,
  };
}

/** A client with no real waiting between retries; `sleeps` records the delays asked for. */
export function testClient(
  settings: Pick<OpenCtiSettings, 'url' | 'token' | 'timeoutMs'>,
  dispatcher: Agent,
  options: OpenCtiClientOptions = {},
): { client: OpenCtiClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const client = createOpenCtiClient(settings, {
    dispatcher,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client, sleeps };
}
