/**
 * The HTTP side of API Gateway REST proxy events: headers by case-insensitive name, the body as
 * bytes (API Gateway base64-encodes bodies it treats as binary), and JSON answers.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** A header's value, whatever case the client (or a proxy) gave its name. */
export function header(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && values && values.length > 0) return values[0];
  }
  return undefined;
}

/** The request body as bytes (empty when there is none). */
export function bodyBytes(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** The route: the resource API Gateway matched, or the path for a catch-all resource. */
export function routeOf(event: Pick<APIGatewayProxyEvent, 'resource' | 'path'>): string {
  const resource = event.resource && !event.resource.includes('{') ? event.resource : event.path;
  const route = (resource ?? '/').replace(/\/+$/, '');
  return route === '' ? '/' : route;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** True for application/json and application/<x>+json, with or without parameters. */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** The credential of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(value: string | undefined): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return match?.[1];
}
