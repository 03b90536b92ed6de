/**
 * The connector's secrets in AWS: one Secrets Manager secret holding a JSON object. Read through
 * Powertools getSecret with a five-minute cache, so that a warm Lambda reads Secrets Manager at
 * most once per five minutes whatever the traffic (GetSecretValue is capped per region).
 */
import { TransformParameterError } from '@aws-lambda-powertools/parameters';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { isPlaceholderSecret } from '../config/placeholders';

export interface ConnectorSecrets {
  criminalIpApiKey: string;
  openctiToken: string;
  /** Absent when POST /webhook is not used: the route then refuses every request. */
  webhookToken?: string;
}

/** JSON keys in the secret, next to the field each one fills. */
const SECRET_KEYS = {
  criminalIpApiKey: 'CRIMINALIP_API_KEY',
  openctiToken: 'OPENCTI_TOKEN',
  webhookToken: 'WEBHOOK_TOKEN',
} as const;

/** Seconds a secret is reused before Secrets Manager is asked again. */
export const SECRET_MAX_AGE_SECONDS = 300;
/**
 * While the secret still holds a placeholder it is read again after this many seconds instead:
 * the operator who just stored the real values should not wait five minutes for a warm function.
 */
export const PLACEHOLDER_RECHECK_SECONDS = 20;

/** When each secret was last seen holding a placeholder (epoch ms), per warm function. */
const placeholderSeenAt = new Map<string, number>();

/** The secret is missing, unreadable or lacks a key. Says which, never a value. */
export class SecretsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsError';
  }
}

function readKey(
  secret: Record<string, unknown>,
  key: string,
  secretId: string,
  keepPlaceholder = false,
): string | undefined {
  const value = secret[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new SecretsError(`Secret ${secretId}: key ${key} must be a string`);
  }
  // A placeholder (REPLACE_ME, as the stack creates the secret) is no credential: missing.
  if (value.trim() === '') return undefined;
  // The webhook token's placeholder is passed on: the ingest handler answers 503 for it.
  return isPlaceholderSecret(value) && !keepPlaceholder ? undefined : value;
}

/** Whether the secret at hand holds a placeholder where a value belongs. */
function holdsPlaceholder(secret: Record<string, unknown>): boolean {
  return Object.values(SECRET_KEYS).some((key) => {
    const value = secret[key];
    return typeof value === 'string' && value.trim() !== '' && isPlaceholderSecret(value);
  });
}

/**
 * Reads the secret `secretId` (name or ARN), a JSON object with the keys CRIMINALIP_API_KEY,
 * OPENCTI_TOKEN and optionally WEBHOOK_TOKEN.
 */
export async function loadSecrets(secretId: string): Promise<ConnectorSecrets> {
  let raw: unknown;
  try {
    const seen = placeholderSeenAt.get(secretId);
    const recheck = seen !== undefined && Date.now() - seen >= PLACEHOLDER_RECHECK_SECONDS * 1000;
    raw = await getSecret(secretId, {
      maxAge: SECRET_MAX_AGE_SECONDS,
      transform: 'json',
      ...(recheck ? { forceFetch: true } : {}),
    });
  } catch (error) {
    if (error instanceof TransformParameterError) {
      // The JSON parser's message quotes the start of the value: neither it nor the error may
      // travel further.
      throw new SecretsError(
        `Secret ${secretId} is not valid JSON: store a JSON object with the keys ${Object.values(SECRET_KEYS).join(', ')}`,
      );
    }
    // The SDK error names the secret and the cause (access denied, not found); it carries no
    // secret value.
    // Powertools wraps the SDK error: its name (AccessDeniedException...) says what to fix.
    const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = root instanceof Error ? `${root.name}: ${root.message}` : String(root);
    throw new SecretsError(
      `Cannot read secret ${secretId} (${reason}); check that it exists, holds a JSON object and that the function may read it`,
      { cause: error },
    );
  }
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SecretsError(
      `Secret ${secretId} must hold a JSON object with the keys ${Object.values(SECRET_KEYS).join(', ')}`,
    );
  }
  const secret = raw as Record<string, unknown>;
  if (holdsPlaceholder(secret)) {
    if (
      !placeholderSeenAt.has(secretId) ||
      placeholderSeenAt.get(secretId)! <= Date.now() - PLACEHOLDER_RECHECK_SECONDS * 1000
    )
      placeholderSeenAt.set(secretId, Date.now());
  } else {
    placeholderSeenAt.delete(secretId);
  }
  const missing: string[] = [];
  const criminalIpApiKey = readKey(secret, SECRET_KEYS.criminalIpApiKey, secretId);
  const openctiToken = readKey(secret, SECRET_KEYS.openctiToken, secretId);
  if (criminalIpApiKey === undefined) missing.push(SECRET_KEYS.criminalIpApiKey);
  if (openctiToken === undefined) missing.push(SECRET_KEYS.openctiToken);
  if (criminalIpApiKey === undefined || openctiToken === undefined) {
    throw new SecretsError(
      `Secret ${secretId} is missing ${missing.join(' and ')} (empty or still the placeholder): store the real values in the secret`,
    );
  }
  const webhookToken = readKey(secret, SECRET_KEYS.webhookToken, secretId, true);
  return webhookToken === undefined
    ? { criminalIpApiKey, openctiToken }
    : { criminalIpApiKey, openctiToken, webhookToken };
}
