/**
 * The local API Gateway: a node:http server on 127.0.0.1 that turns each request into the
 * APIGatewayProxyEvent a REST API proxy integration would send, calls the ingest function's
 * handler with it and writes its answer back. The handler is the very one Lambda runs, so the
 * routes answer locally exactly as they do in AWS.
 *
 * What API Gateway itself does before the function runs is done here too: requests to routes the
 * API does not define are refused without calling the handler, and bodies above API Gateway's
 * 10 MB payload limit are refused with 413 before being read into memory.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Log } from '../core/log';

export type IngestHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** API Gateway's payload limit: larger requests never reach the function. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The routes of the REST API (infra/ defines the same): method and resource path. */
export const ROUTES: ReadonlyArray<{ method: string; resource: string }> = [
  { method: 'POST', resource: '/opencti/callback' },
  { method: 'POST', resource: '/webhook' },
  { method: 'GET', resource: '/health' },
];

export const LOCAL_STAGE = 'local';

export interface LocalServerOptions {
  handler: IngestHandler;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  log: Log;
  /** Host to bind (loopback unless told otherwise). */
  host?: string;
  maxBodyBytes?: number;
}

export interface LocalServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Stops accepting connections, lets requests in progress finish, then resolves. */
  close(): Promise<void>;
}

/** Content types API Gateway passes as text; anything else travels base64-encoded. */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/javascript'
  );
}

/** Header names as the client sent them (API Gateway keeps their case), single and multi-valued. */
function headersOf(req: IncomingMessage): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

function queryOf(url: URL): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  if ([...url.searchParams.keys()].length === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

class BodyTooLargeError extends Error {}

/** Reads the body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The proxy event API Gateway would build for this request. */
export function toProxyEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  resource: string,
): APIGatewayProxyEvent {
  const { headers, multiValueHeaders } = headersOf(req);
  const textual = isTextual(req.headers['content-type']);
  const now = Date.now();
  const method = req.method ?? 'GET';
  const path = url.pathname;
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    ...queryOf(url),
    pathParameters: null,
    stageVariables: null,
    body: body.length === 0 ? null : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${LOCAL_STAGE}${path}`,
      stage: LOCAL_STAGE,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map((v) => String(v));
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const limit = options.maxBodyBytes ?? GATEWAY_MAX_BODY_BYTES;
  const { log } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const onPath = ROUTES.filter((route) => route.resource === path);
    const route = onPath.find((r) => r.method === req.method);
    if (!route) {
      req.resume();
      // API Gateway answers 403 "Missing Authentication Token" here; a plain 404/405 says more.
      if (onPath.length === 0) sendJson(res, 404, { message: `No route ${req.method} ${url.pathname}` });
      else
        sendJson(
          res,
          405,
          { message: `Use ${onPath.map((r) => r.method).join(', ')} on ${path}` },
          { allow: onPath.map((r) => r.method).join(', ') },
        );
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendJson(res, 413, { message: `Request body larger than ${limit} bytes` }, { connection: 'close' });
        return;
      }
      throw error;
    }
    const result = await options.handler(toProxyEvent(req, url, body, route.resource));
    writeResult(res, result);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The Lambda would have failed: API Gateway answers 502 for an invocation error.
      log.error('The ingest handler failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) sendJson(res, 502, { message: 'Internal server error' });
      else res.destroy();
    });
  });
  // A slow client must not hold a connection forever (API Gateway gives up after 29 s).
  server.requestTimeout = 30_000;
  server.headersTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  // Bound to every interface: this machine reaches it on loopback.
  const reachable = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const host = reachable.includes(':') ? `[${reachable}]` : reachable;

  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
