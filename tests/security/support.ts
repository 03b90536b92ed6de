/** Shared by the security tests: raw HTTP requests, and a strict reader of the product's patterns. */
import { request } from 'undici';
import type { StixBundle } from '../../lib/stix/core';
import { singleComparison } from '../helpers/stix-pattern';

export { singleComparison };

export interface RawAnswer {
  status: number;
  body: string;
}

/** A request exactly as given: no header added (not even a content type), the body as bytes. */
export async function rawRequest(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  const response = await request(url, {
    method: options.method ?? 'POST',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.statusCode, body: await response.body.text() };
}

/** Indicator patterns of a bundle. */
export function patternsOf(bundle: StixBundle): string[] {
  return bundle.objects
    .filter((o) => o.type === 'indicator' && typeof o.pattern === 'string')
    .map((o) => o.pattern as string);
}
