/**
 * The OpenCTI stand-in: a real HTTP GraphQL server on 127.0.0.1 that answers the product's
 * operations the way OpenCTI 6.9.17, the 7.x LTS (7.260309.0) or the latest 7.x (7.260817.0)
 * does (`platform`), for the offline demo, the fault suite and tests. A 7.x stand-in publishes
 * `Connector.jwks` and, as the platform's worker does, signs each callback with a JWT (a fresh
 * Ed25519 key per stand-in, generated at start).
 *
 * Every request goes through what OpenCTI does with it: the Bearer token is checked; the
 * document is parsed and validated against the OpenCTI schema (trimmed to the product's
 * documents, see schema.ts); a document repeating a mutation field is refused (OpenCTI's
 * anti-batching rule); variables are coerced against their declared types; then the operation is
 * executed against the stand-in's state. Every request is recorded, and faults can be injected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GraphQLError,
  Kind,
  defaultFieldResolver,
  execute,
  getVariableValues,
  isInterfaceType,
  isObjectType,
  OperationTypeNode,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFieldResolver,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { StixBundle } from '../../stix/core';
import { FaultInjector, seededRandom, type FaultPlan } from './faults';
import type {
  RecordedPlaybookAnswer,
  RecordedPush,
  RecordedRequest,
  StandInConnector,
  StandInMarking,
  StandInObservable,
  StandInWork,
} from './model';
import { Platform, graphQlTypeName } from './platform';
import { isPlatform7, standInSchema, type StandInPlatform } from './schema';
import type { PropertySource, StandInIndicator, StandInRelationship } from './upsert';

/** Errors a 7.x platform answers to a token it will not take (docs/opencti-7.md §1.2). */
export type StandInAccessError = 'lts-activation' | 'token-capability' | 'token-expired';

const ACCESS_ERRORS: Record<StandInAccessError, { code: string; message: string }> = {
  'lts-activation': { code: 'LTS_REQUIRED_ACTIVATION', message: 'You must activate your LTS license.' },
  'token-capability': { code: 'FORBIDDEN_ACCESS', message: 'You are not allowed to use API Access Tokens' },
  'token-expired': { code: 'FUNCTIONAL_ERROR', message: 'Token expired' },
};

export interface OpenCtiStandInOptions {
  /** Which OpenCTI to play (default 6.9.17): schema, `about.version`, JWKS and callback credential. */
  platform?: StandInPlatform;
  /** Add `version` and `slug` to RegisterConnectorInput, as platforms newer than 7.260817.0 have. */
  registerInputExtras?: boolean;
  /** Answer every authenticated request with this 7.x access error. */
  accessError?: StandInAccessError;
  /** The API token the stand-in accepts (a random UUID, or a 7.x-style token, when absent). */
  token?: string;
  /** Seed of the fault generator and of generated ids: the same seed replays the same run. */
  seed?: number;
  faults?: FaultPlan;
  /** Connector ids OpenCTI already knows; 'any' (default) treats every id as registered. */
  knownConnectors?: string[] | 'any';
  /** Markings per entity id (internal or standard id), for the markings read. */
  markings?: Record<string, StandInMarking[]>;
  /** The observables the sweep query pages through. */
  observables?: StandInObservable[];
  /** Clock for recorded times and updated_at (the system clock when absent). */
  now?: () => Date;
  /**
   * Ingest pushed bundles and playbook answers with OpenCTI's upsert rules (upsert.ts), so that
   * tests read the observable's state, labels and indicators afterwards. `userMaxConfidence` is
   * the connector user's max confidence level (100 when absent). `propertiesFrom` plays the
   * importer (upsert.ts PropertySource; default 'top-level'). Off by default: only recorded.
   */
  upsert?: boolean | { userMaxConfidence?: number; propertiesFrom?: PropertySource };
}

export interface OpenCtiStandIn {
  /** Base URL, as OPENCTI_URL (GraphQL at `${url}/graphql`). */
  url: string;
  token: string;
  platform: StandInPlatform;
  /** `Connector.jwks` (a JSON string) on 7.x; undefined on 6.9. */
  jwks: string | undefined;
  /**
   * What the platform's worker puts after `Bearer` when it POSTs to listen_callback_uri: a JWT
   * signed with the platform key (7.x, `iat` now, `exp` one hour later), the token (6.9).
   */
  callbackCredential(): Promise<string>;
  /** A connector JWT as the 7.x platform mints it, with other claims for tests. */
  signCallbackJwt(claims?: { iat?: number; exp?: number; iss?: string; sub?: string }): Promise<string>;
  /** Every request received, in order (live array). */
  requests: RecordedRequest[];
  /** Bundles pushed with stixBundlePush, in order. */
  bundles(): StixBundle[];
  /** The same pushes with their connector and work ids. */
  pushes(): RecordedPush[];
  works(): Map<string, StandInWork>;
  playbookAnswers(): RecordedPlaybookAnswer[];
  connectors(): Map<string, StandInConnector>;
  /** Creates a work as OpenCTI does before sending a listen message; returns its id. */
  createWork(connectorId: string, name?: string): string;
  setFaults(faults: FaultPlan): void;
  setMarkings(entityId: string, markings: StandInMarking[]): void;
  setObservables(observables: StandInObservable[]): void;
  /** The observable as the platform holds it now (after upserts), by internal or standard id. */
  observable(id: string): (StandInObservable & { id: string }) | undefined;
  /** Indicators ingested (upsert mode), by standard id. */
  indicators(): Map<string, StandInIndicator>;
  /** Relationships ingested (upsert mode), by standard id. */
  relationships(): Map<string, StandInRelationship>;
  close(): Promise<void>;
}

/** OpenCTI's default body limit (app:max_payload_body_size). */
const MAX_BODY_BYTES = 50 * 1024 * 1024;
/** graphql-no-alias defaults in OpenCTI: a mutation field once per document, a query field twice. */
const MAX_MUTATION_FIELD_USES = 1;
const MAX_QUERY_FIELD_USES = 2;

class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Rejection(413, 'PAYLOAD_TOO_LARGE', 'request entity too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function errorBody(code: string, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** Root fields per name, across inline fragments at the root (named fragments are expanded). */
function rootFieldUses(
  selectionSet: SelectionSetNode,
  document: DocumentNode,
  counts = new Map<string, number>(),
) {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      counts.set(selection.name.value, (counts.get(selection.name.value) ?? 0) + 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      rootFieldUses(selection.selectionSet, document, counts);
    } else {
      const fragment = document.definitions.find(
        (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      if (fragment && fragment.kind === Kind.FRAGMENT_DEFINITION) {
        rootFieldUses(fragment.selectionSet, document, counts);
      }
    }
  }
  return counts;
}

function checkNoAliasBatch(operation: OperationDefinitionNode, document: DocumentNode): void {
  const limit =
    operation.operation === OperationTypeNode.MUTATION ? MAX_MUTATION_FIELD_USES : MAX_QUERY_FIELD_USES;
  for (const [field, uses] of rootFieldUses(operation.selectionSet, document)) {
    if (uses > limit) {
      throw new Rejection(
        400,
        'GRAPHQL_VALIDATION_FAILED',
        `Field '${field}' appears ${uses} times, more than the ${limit} allowed per document (anti-batching)`,
      );
    }
  }
}

/** Refuses observables the schema could not answer for (unknown entity type). */
function checkObservables(observables: StandInObservable[], platform: StandInPlatform): void {
  const schema = standInSchema(platform);
  for (const o of observables) {
    const type = schema.getType(graphQlTypeName(o.entity_type));
    const iface = schema.getType('StixCyberObservable');
    if (!type || !isObjectType(type) || !isInterfaceType(iface) || !schema.isSubType(iface, type)) {
      throw new Error(
        `Stand-in observable ${o.standard_id}: unknown observable entity_type "${o.entity_type}"`,
      );
    }
  }
}

/** Calls root-field functions of the stand-in; refuses root fields it does not implement. */
const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
  const isRoot =
    info.parentType === info.schema.getQueryType() || info.parentType === info.schema.getMutationType();
  if (isRoot && !(info.fieldName in (source as Record<string, unknown>))) {
    throw new GraphQLError(`The OpenCTI stand-in does not implement ${info.fieldName}`, {
      extensions: { code: 'UNSUPPORTED_ERROR' },
    });
  }
  return defaultFieldResolver(source, args, context, info);
};

/** The platform's connector key: Ed25519, kid of 16 hex digits, as platformCrypto.ts builds it. */
async function platformKey(): Promise<{ jwks: string; kid: string; privateKey: CryptoKey }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = randomBytes(8).toString('hex');
  const { x } = await exportJWK(publicKey);
  const jwk = { kid, use: 'sig', alg: 'EdDSA', crv: 'Ed25519', kty: 'OKP', x };
  return { jwks: JSON.stringify({ keys: [jwk] }), kid, privateKey };
}

export async function startOpenCtiStandIn(options: OpenCtiStandInOptions = {}): Promise<OpenCtiStandIn> {
  const platformVersion = options.platform ?? '6.9.17';
  const seven = isPlatform7(platformVersion);
  const schema = standInSchema(platformVersion, {
    registerInputExtras: options.registerInputExtras === true,
  });
  // 7.x tokens are no UUIDs any more (flgrn_octi_tkn_...): the product must take any token.
  const token =
    options.token ?? (seven ? `flgrn_octi_tkn_${randomBytes(48).toString('base64url')}` : randomUUID());
  const key = seven ? await platformKey() : undefined;
  const signCallbackJwt = async (claims: { iat?: number; exp?: number; iss?: string; sub?: string } = {}) => {
    if (!key)
      throw new Error(`The OpenCTI ${platformVersion} stand-in signs no callback: 6.9 sends the token`);
    const iat = claims.iat ?? Math.floor(now().getTime() / 1000);
    return new SignJWT({ iss: claims.iss ?? 'opencti', sub: claims.sub ?? 'connector' })
      .setProtectedHeader({ kid: key.kid, alg: 'EdDSA', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp ?? iat + 3600)
      .sign(key.privateKey);
  };
  const seed = options.seed ?? 1;
  const now = options.now ?? (() => new Date());
  const faults = new FaultInjector(seed, options.faults);
  const idRandom = seededRandom(seed ^ 0x5eed);
  const newId = () =>
    Array.from({ length: 4 }, () =>
      Math.floor(idRandom() * 0x100000000)
        .toString(16)
        .padStart(8, '0'),
    )
      .join('')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  checkObservables(options.observables ?? [], platformVersion);
  const platform = new Platform({
    version: platformVersion,
    jwks: key?.jwks,
    knownConnectors: options.knownConnectors ?? 'any',
    markings: options.markings ?? {},
    observables: options.observables ?? [],
    now,
    newId,
    ...(options.upsert
      ? {
          upsert: {
            userMaxConfidence:
              (typeof options.upsert === 'object' ? options.upsert.userMaxConfidence : undefined) ?? 100,
            propertiesFrom:
              (typeof options.upsert === 'object' ? options.upsert.propertiesFrom : undefined) ?? 'top-level',
          },
        }
      : {}),
  });
  const requests: RecordedRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/graphql') {
      sendJson(res, 404, errorBody('NOT_FOUND', `Cannot ${req.method} ${path}`));
      return;
    }
    const record: RecordedRequest = {
      at: now().toISOString(),
      operationName: undefined,
      operationType: undefined,
      query: '',
      variables: {},
      draftId:
        typeof req.headers['opencti-draft-id'] === 'string' ? req.headers['opencti-draft-id'] : undefined,
      authorized: req.headers.authorization === `Bearer ${token}`,
      outcome: 'rejected',
      status: undefined,
      errorCode: undefined,
    };
    requests.push(record);
    const answer = (status: number, body: unknown, outcome: RecordedRequest['outcome']) => {
      record.status = status;
      record.outcome = outcome;
      const errors = (body as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors;
      const code = errors?.[0]?.extensions?.code;
      record.errorCode = typeof code === 'string' ? code : undefined;
      sendJson(res, status, body);
    };

    try {
      const text = await readBody(req);
      let body: { query?: unknown; variables?: unknown; operationName?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new Rejection(400, 'BAD_REQUEST', 'Body is not JSON');
      }
      if (!body || typeof body !== 'object' || typeof body.query !== 'string') {
        throw new Rejection(400, 'BAD_REQUEST', 'POST body must be JSON with a "query" string');
      }
      record.query = body.query;
      record.variables =
        body.variables && typeof body.variables === 'object'
          ? (body.variables as Record<string, unknown>)
          : {};
      record.operationName = typeof body.operationName === 'string' ? body.operationName : undefined;

      let document: DocumentNode;
      try {
        document = parse(body.query);
      } catch (error) {
        throw new Rejection(400, 'GRAPHQL_PARSE_FAILED', (error as Error).message);
      }
      const operations = document.definitions.filter(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      const operation = operations[0];
      if (operations.length !== 1 || !operation) {
        throw new Rejection(400, 'BAD_REQUEST', 'Send exactly one operation per request');
      }
      record.operationType = operation.operation;
      record.operationName ??= operation.name?.value;

      const fault = faults.next(record.operationName);
      if (fault?.kind === 'hang') {
        record.outcome = 'fault-hang';
        return; // never answered: closed by close()
      }
      if (fault?.kind === 'http5xx') {
        record.status = fault.status;
        record.outcome = 'fault-http';
        res.writeHead(fault.status, { 'content-type': 'text/html' });
        res.end(`<html><body><h1>${fault.status}</h1>upstream unavailable</body></html>`);
        return;
      }

      if (!record.authorized) {
        answer(
          200,
          { ...errorBody('AUTH_REQUIRED', 'You must be logged in to do this.'), data: null },
          'graphql-error',
        );
        return;
      }
      if (options.accessError) {
        const refusal = ACCESS_ERRORS[options.accessError];
        answer(200, { ...errorBody(refusal.code, refusal.message), data: null }, 'graphql-error');
        return;
      }
      const validationErrors = validate(schema, document);
      if (validationErrors.length > 0) {
        throw new Rejection(
          400,
          'GRAPHQL_VALIDATION_FAILED',
          validationErrors.map((e) => e.message).join('; '),
        );
      }
      checkNoAliasBatch(operation, document);
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], record.variables);
      if (coerced.errors) {
        throw new Rejection(400, 'BAD_USER_INPUT', coerced.errors.map((e) => e.message).join('; '));
      }

      if (fault?.kind === 'graphql-error') {
        answer(
          200,
          { ...errorBody(fault.code, 'Injected failure (stand-in fault)'), data: null },
          'fault-graphql',
        );
        return;
      }

      const result = await execute({
        schema,
        document,
        rootValue: platform.rootValue(),
        variableValues: record.variables,
        fieldResolver,
      });
      const errors = result.errors?.map((e) => e.toJSON());
      answer(
        200,
        errors ? { errors, data: result.data ?? null } : { data: result.data },
        errors ? 'graphql-error' : 'ok',
      );
    } catch (error) {
      if (error instanceof Rejection) {
        answer(error.status, errorBody(error.code, error.message), 'rejected');
      } else {
        answer(500, errorBody('INTERNAL_SERVER_ERROR', 'Stand-in failure'), 'rejected');
      }
    }
  }

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    platform: platformVersion,
    jwks: key?.jwks,
    callbackCredential: () => (seven ? signCallbackJwt() : Promise.resolve(token)),
    signCallbackJwt,
    requests,
    bundles: () => platform.pushes.map((p) => p.bundle),
    pushes: () => [...platform.pushes],
    works: () => new Map([...platform.works].map(([id, w]) => [id, { ...w, messages: [...w.messages] }])),
    playbookAnswers: () => [...platform.playbookAnswers],
    connectors: () => new Map([...platform.connectors].map(([id, c]) => [id, { ...c }])),
    createWork: (connectorId, name) =>
      platform.createWork(connectorId, name ?? `Enrichment (${connectorId})`),
    setFaults: (plan) => faults.set(plan),
    setMarkings: (entityId, markings) => platform.setMarkings(entityId, markings),
    setObservables: (observables) => {
      checkObservables(observables, platformVersion);
      platform.setObservables(observables);
    },
    observable: (id) => platform.observable(id),
    indicators: () =>
      new Map([...platform.indicators].map(([id, i]) => [id, { ...i, labels: [...i.labels] }])),
    relationships: () => new Map(platform.relationships),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
