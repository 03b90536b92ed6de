/**
 * The connector's life in OpenCTI: registration (creates or updates it, same id) and the ping
 * that keeps it "active". OpenCTI counts a connector active only when it registered or pinged in
 * the last 5 minutes, and auto-enrichment targets only active connectors: the schedule pings
 * every few minutes.
 */
import packageJson from '../../package.json';
import type { OpenCtiSettings } from '../config';
import type { OpenCtiClient } from './client';
import {
  PING_CONNECTOR,
  READ_CONNECTOR,
  REGISTER_CONNECTOR,
  REGISTER_CONNECTOR_7,
  type ConnectorRecord,
  type RegisterConnectorInput,
} from './documents';
import { NotFoundError, ServerError, ValidationError } from './errors';
import { hasConnectorJwks, type PlatformFacts } from './platform-version';

/** This product's release, sent as the connector `version` where the platform takes one. */
export const CONNECTOR_VERSION: string = packageJson.version;
/** A stable machine name for the connector, sent as `slug` where the platform takes one. */
export const CONNECTOR_SLUG = 'criminalip-opencti';

export type ConnectorSettings = Pick<
  OpenCtiSettings,
  'connectorId' | 'connectorName' | 'scope' | 'auto' | 'callbackUrl'
>;

/**
 * The registration as this product sends it. `version` and `slug` only go to a platform whose
 * RegisterConnectorInput has them (newer 7.x): elsewhere an unknown input field fails the call.
 */
export function registrationInput(
  settings: ConnectorSettings,
  facts?: Pick<PlatformFacts, 'registerInputFields'>,
): RegisterConnectorInput {
  const fields = new Set(facts?.registerInputFields ?? []);
  return {
    id: settings.connectorId,
    name: settings.connectorName,
    type: 'INTERNAL_ENRICHMENT',
    scope: [...settings.scope],
    auto: settings.auto,
    // Never enrich on update: our own write-back updates the observable and would trigger us again.
    auto_update: false,
    // Selectable in the playbook step "Enrich through connector".
    playbook_compatible: true,
    // Where OpenCTI's worker POSTs enrichment requests (HTTP listen protocol, 6.5.7+). Without it
    // OpenCTI queues requests for a RabbitMQ consumer this product does not run.
    listen_callback_uri: settings.callbackUrl ?? null,
    ...(fields.has('version') ? { version: CONNECTOR_VERSION } : {}),
    ...(fields.has('slug') ? { slug: CONNECTOR_SLUG } : {}),
  };
}

/**
 * Registers (or updates) the connector; resolves to what OpenCTI now has. With the platform's
 * facts (platform-version.ts), a 7.x platform is also asked for its JWKS (`jwks` in the answer).
 */
export async function registerConnector(
  client: OpenCtiClient,
  settings: ConnectorSettings,
  facts?: PlatformFacts,
): Promise<ConnectorRecord & { jwks?: string }> {
  const input = registrationInput(settings, facts);
  const data =
    facts && hasConnectorJwks(facts.version)
      ? await client.execute(REGISTER_CONNECTOR_7, { input })
      : await client.execute(REGISTER_CONNECTOR, { input });
  if (!data.registerConnector) {
    throw new ServerError(
      'OpenCTI RegisterConnector: OpenCTI answered without the connector. Try again; check the platform logs if it persists.',
      { operation: REGISTER_CONNECTOR.operationName },
    );
  }
  return data.registerConnector;
}

/** The state we report in each ping: this connector keeps none in OpenCTI. */
const CONNECTOR_STATE = '{}';

export interface PingResult {
  id: string;
  active: boolean;
  updatedAt: string | null;
}

/** OpenCTI's answer to a ping for a connector id it does not know (FUNCTIONAL_ERROR). */
const UNKNOWN_CONNECTOR = /no connector found/i;

/**
 * Marks the connector alive. Throws ConnectorNotRegisteredError when OpenCTI does not know the
 * connector (never registered, or deleted in the UI): the fix is to register it again.
 */
export async function pingConnector(
  client: OpenCtiClient,
  settings: Pick<OpenCtiSettings, 'connectorId'>,
): Promise<PingResult> {
  const operation = PING_CONNECTOR.operationName;
  let answer;
  try {
    answer = (await client.execute(PING_CONNECTOR, { id: settings.connectorId, state: CONNECTOR_STATE }))
      .pingConnector;
  } catch (error) {
    if (error instanceof ValidationError && UNKNOWN_CONNECTOR.test(error.message)) {
      throw new ConnectorNotRegisteredError(settings.connectorId, operation);
    }
    throw error;
  }
  if (!answer) throw new ConnectorNotRegisteredError(settings.connectorId, operation);
  return { id: answer.id, active: answer.active === true, updatedAt: answer.updated_at };
}

export class ConnectorNotRegisteredError extends NotFoundError {
  override readonly name: string = 'ConnectorNotRegisteredError';

  constructor(connectorId: string, operation: string) {
    super(
      `OpenCTI ${operation}: no connector with id ${connectorId} (CONNECTOR_ID). Register it first (\`criminalip-opencti register\`).`,
      { operation },
    );
  }
}

/**
 * What the schedule runs: a ping, and a registration when OpenCTI does not know the connector
 * (first run, or it was deleted in the UI). Registration also counts as a sign of life.
 */
export async function keepConnectorAlive(
  client: OpenCtiClient,
  settings: ConnectorSettings,
): Promise<{ action: 'pinged' | 'registered'; connectorId: string }> {
  try {
    await pingConnector(client, settings);
    return { action: 'pinged', connectorId: settings.connectorId };
  } catch (error) {
    if (!(error instanceof ConnectorNotRegisteredError)) throw error;
  }
  await registerConnector(client, settings);
  return { action: 'registered', connectorId: settings.connectorId };
}

/** The connector as OpenCTI has it, or null when it was never registered. */
export async function readConnector(
  client: OpenCtiClient,
  settings: Pick<OpenCtiSettings, 'connectorId'>,
): Promise<ConnectorRecord | null> {
  const data = await client.execute(READ_CONNECTOR, { id: settings.connectorId });
  return data.connector;
}
