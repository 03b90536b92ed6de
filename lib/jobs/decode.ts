/**
 * Turning request bodies and the JSON strings nested inside them into values, without throwing:
 * each parser decides which error type a failure becomes (a rejection for the callback, a 400 for
 * the webhook).
 */
import type * as z from 'zod';

export type Decoded = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Parses `input` while it is JSON text, at most `levels` times: OpenCTI sends `stix_entity` as a
 * JSON string inside the JSON message, and a relay may have encoded the whole body once more. A
 * value that is already parsed is returned as it is. The problem never quotes the text, which may
 * hold anything.
 */
export function decodeJson(input: unknown, levels = 2): Decoded {
  let value = input instanceof Uint8Array ? new TextDecoder().decode(input) : input;
  for (let level = 0; level < levels && typeof value === 'string'; level += 1) {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return {
        ok: false,
        problem: level === 0 ? 'is not valid JSON' : 'holds a JSON string that is not valid JSON',
      };
    }
  }
  return { ok: true, value };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Zod issues as one line: `internal.playbook.step_id: Invalid input: expected string, received undefined`. */
export function issuesOf(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
