/**
 * What every Lambda of this product builds at start: the resources named by its environment
 * (queue, bucket, table, secret), the configuration (lib/config, with the secrets from Secrets
 * Manager in place of the secret variables), and the Powertools logger and metrics.
 *
 * Secrets are re-read through the five-minute cache on every invocation; whatever is built from
 * them is rebuilt only when their values change (a rotation), so a warm function picks up new
 * credentials without a redeploy.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError, loadConfig, type Config, type ConfigRequirements } from '../config';
import type { Log } from '../core/log';
import { createLogger, createMetrics, powertoolsLog, PowertoolsMetricsSink } from './observability';
import { loadSecrets, type ConnectorSecrets } from './secrets';

type Env = Record<string, string | undefined>;

/** An environment variable the stack sets; a missing one is a deployment error. */
/**
 * A Lambda entry point whose handler is built on the first event (the environment, the secret,
 * the SDK clients) and reused by every later event of the execution environment. A failed build
 * stays failed: the function's configuration has to change, and a new environment starts over.
 */
export function lambdaEntry<E, C, R>(
  build: () => (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  let built: Promise<(event: E, context: C) => Promise<R>> | undefined;
  return async (event, context) => {
    // A throw while building becomes this promise's rejection, kept for every later event.
    built ??= Promise.resolve().then(build);
    return (await built)(event, context);
  };
}

export function requiredEnv(env: Env, name: string, expected: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, `is required: ${expected} (set by the CDK stack)`);
  return value;
}

/** The secret holding the credentials: SECRET_ARN, else SECRET_ID or SECRET_NAME. */
export function secretIdOf(env: Env): string {
  const id = env.SECRET_ARN?.trim() || env.SECRET_ID?.trim() || env.SECRET_NAME?.trim();
  if (!id)
    throw new ConfigError(
      'SECRET_ARN',
      'is required: the ARN of the Secrets Manager secret holding the credentials',
    );
  return id;
}

/** An optional whole number from the environment, within bounds. */
export function intEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw.slice(0, 40)}")`);
  }
  return value;
}

/** The configuration with the secrets from Secrets Manager standing in for the secret variables. */
export function configWithSecrets(
  env: Env,
  secrets: ConnectorSecrets,
  requirements?: ConfigRequirements,
): Config {
  return loadConfig(
    {
      ...env,
      CRIMINALIP_API_KEY: secrets.criminalIpApiKey,
      OPENCTI_TOKEN: secrets.openctiToken,
      WEBHOOK_TOKEN: secrets.webhookToken,
    },
    requirements,
  );
}

/** A digest of the secret values: tells a rotation apart without keeping a second copy. */
export function secretsFingerprint(secrets: ConnectorSecrets): string {
  return createHash('sha256')
    .update(JSON.stringify([secrets.criminalIpApiKey, secrets.openctiToken, secrets.webhookToken ?? '']))
    .digest('hex');
}

export interface Observability {
  logger: Logger;
  log: Log;
  metrics: PowertoolsMetricsSink;
}

/** Logger and metrics for one function; the log level comes from LOG_LEVEL / POWERTOOLS_LOG_LEVEL. */
export function createObservability(env: Env = process.env): Observability {
  const level = env.POWERTOOLS_LOG_LEVEL?.toUpperCase() ?? env.LOG_LEVEL?.toUpperCase();
  const logLevel =
    level === 'DEBUG' || level === 'INFO' || level === 'WARN' || level === 'ERROR' ? level : undefined;
  const logger = createLogger(logLevel ? { logLevel } : {});
  return { logger, log: powertoolsLog(logger), metrics: new PowertoolsMetricsSink(createMetrics()) };
}

/**
 * Builds `T` from the secrets and keeps it while they stay the same. `build` runs again after a
 * rotation, or after it failed (a failed start is not cached).
 */
export function rebuildOnRotation<T>(
  secretId: string,
  build: (secrets: ConnectorSecrets) => T | Promise<T>,
): () => Promise<T> {
  let current: { fingerprint: string; value: Promise<T> } | undefined;
  return async () => {
    const secrets = await loadSecrets(secretId);
    const fingerprint = secretsFingerprint(secrets);
    if (!current || current.fingerprint !== fingerprint) {
      const value = Promise.resolve().then(() => build(secrets));
      current = { fingerprint, value };
      value.catch(() => {
        if (current?.value === value) current = undefined;
      });
    }
    return current.value;
  };
}
