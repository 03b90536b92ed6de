/** Shared by the security tests: raw HTTP requests, and a strict reader of the product's patterns. */
import { request } from 'undici';
import type { StixBundle } from '../../lib/stix/core';

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

/**
 * Reads `[<type>:value = '<literal>']` following the STIX 2.1 patterning grammar for one
 * comparison, whose string literal knows the escapes \\ and \' only. Returns the unescaped value;
 * throws when the pattern is anything more (a second comparison, an operator, a broken literal).
 */
export function singleComparison(pattern: string): { type: string; value: string } {
  const head = /^\[([a-z0-9-]+):value = '/.exec(pattern);
  if (!head) throw new Error(`not a single value comparison: ${pattern.slice(0, 80)}`);
  let value = '';
  let index = head[0].length;
  for (;;) {
    const character = pattern[index];
    if (character === undefined) throw new Error('the string literal never closes');
    if (character === "'") break;
    if (character === '\\') {
      const escaped = pattern[index + 1];
      if (escaped !== '\\' && escaped !== "'") throw new Error(`invalid escape \\${String(escaped)}`);
      value += escaped;
      index += 2;
    } else {
      value += character;
      index += 1;
    }
  }
  if (pattern.slice(index) !== "']")
    throw new Error(`text after the comparison: ${pattern.slice(index, index + 80)}`);
  return { type: head[1]!, value };
}

/** Indicator patterns of a bundle. */
export function patternsOf(bundle: StixBundle): string[] {
  return bundle.objects
    .filter((o) => o.type === 'indicator' && typeof o.pattern === 'string')
    .map((o) => o.pattern as string);
}
