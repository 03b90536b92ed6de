/**
 * The connected platform's version as registration / ping recorded it in the ledger
 * (schedule-tasks.ts): the sweep checks REENRICH_FILTER's operators against it and the enrich
 * pipeline computes ids with its rules. No record yet (never registered, or a ledger without
 * one) reads as unknown, and each caller falls back to the 6.9 behaviour every line shares.
 */
import {
  PlatformVersionError,
  parsePlatformVersion,
  type PlatformVersion,
} from '../opencti/platform-version';
import type { Log } from '../core/log';
import type { PlatformStore } from './ports';

export async function recordedPlatformVersion(
  store: Partial<PlatformStore>,
  log: Log,
): Promise<PlatformVersion | undefined> {
  const record = await store.getPlatform?.();
  if (!record) return undefined;
  try {
    return parsePlatformVersion(record.version);
  } catch (error) {
    if (!(error instanceof PlatformVersionError)) throw error;
    // A version this release cannot read (a platform newer than it knows of): say so, go on as 6.9.
    log.warn('The recorded OpenCTI version is not understood; following the 6.9 rules', {
      platformVersion: record.version.slice(0, 40),
    });
    return undefined;
  }
}
