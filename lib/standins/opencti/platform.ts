/**
 * The stand-in's platform: its state and the resolvers of the operations the product uses,
 * answering as OpenCTI 6.9.17 (or 7.x, `version`) does (same error codes and messages where
 * they matter).
 */
import { GraphQLError } from 'graphql';
import type { StixBundle } from '../../stix/core';
import { assertSupported, matchesFilterGroup, type FilterGroupInput } from './filters';
import type {
  RecordedPlaybookAnswer,
  RecordedPush,
  StandInConnector,
  StandInMarking,
  StandInObservable,
  StandInWork,
} from './model';
import {
  ingestBundle,
  playbookOutput,
  type Knowledge,
  type PropertySource,
  type StandInIndicator,
  type StandInRelationship,
} from './upsert';

function graphQlError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** GraphQL object type of an OpenCTI entity type: IPv4-Addr → IPv4Addr, Domain-Name → DomainName. */
export function graphQlTypeName(entityType: string): string {
  return entityType.replace(/-/g, '');
}

/** Entity type of our observables from a STIX id prefix (for entities known only by their markings). */
const ENTITY_TYPE_BY_PREFIX: Record<string, string> = {
  'ipv4-addr': 'IPv4-Addr',
  'ipv6-addr': 'IPv6-Addr',
  'domain-name': 'Domain-Name',
  hostname: 'Hostname',
  url: 'Url',
};

export interface PlatformOptions {
  /** What `about { version }` answers (default 6.9.17). */
  version?: string;
  /** `Connector.jwks` (7.x only). */
  jwks?: string | undefined;
  /** Connector ids OpenCTI knows; 'any' accepts every id as registered. */
  knownConnectors: string[] | 'any';
  markings: Record<string, StandInMarking[]>;
  observables: StandInObservable[];
  now: () => Date;
  newId: () => string;
  /**
   * Ingest what is pushed (stixBundlePush) and what a playbook step answers (as its next step
   * "Send for ingestion" would) with OpenCTI's upsert rules (upsert.ts). Off: only recorded.
   */
  upsert?: { userMaxConfidence: number; propertiesFrom: PropertySource };
}

function parseBundle(text: string, what: string): StixBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw graphQlError('FUNCTIONAL_ERROR', `Invalid ${what}: not JSON`);
  }
  const bundle = value as Partial<StixBundle> | null;
  if (!bundle || bundle.type !== 'bundle' || !Array.isArray(bundle.objects)) {
    throw graphQlError('FUNCTIONAL_ERROR', `Invalid ${what}`);
  }
  return bundle as StixBundle;
}

function cursorOf(index: number): string {
  return Buffer.from(JSON.stringify([index]), 'utf8').toString('base64');
}

function indexOf(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  try {
    const [index] = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as [unknown];
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0) return index + 1;
  } catch {
    // fall through to the error below
  }
  throw graphQlError('FUNCTIONAL_ERROR', 'Invalid pagination cursor');
}

export class Platform {
  readonly connectors = new Map<string, StandInConnector>();
  readonly works = new Map<string, StandInWork>();
  readonly pushes: RecordedPush[] = [];
  readonly playbookAnswers: RecordedPlaybookAnswer[] = [];
  private readonly known: Set<string> | 'any';
  private markings: Map<string, StandInMarking[]>;
  private observables: Array<StandInObservable & { id: string }>;
  readonly indicators = new Map<string, StandInIndicator>();
  readonly relationships = new Map<string, StandInRelationship>();
  /** Label ids by value: OpenCTI labels are entities, removed from an object by id. */
  private readonly labelIds = new Map<string, string>();

  constructor(private readonly options: PlatformOptions) {
    this.known = options.knownConnectors === 'any' ? 'any' : new Set(options.knownConnectors);
    this.markings = new Map(Object.entries(options.markings));
    this.observables = [];
    this.setObservables(options.observables);
  }

  setObservables(list: StandInObservable[]): void {
    this.observables = list.map((o) => ({ ...o, id: o.id ?? this.options.newId() }));
  }

  /** The observable as the platform holds it now (a copy), by internal or standard id. */
  observable(id: string): (StandInObservable & { id: string }) | undefined {
    const found = this.observables.find((o) => o.id === id || o.standard_id === id);
    return found ? { ...found, labels: [...(found.labels ?? [])] } : undefined;
  }

  private labelId(value: string): string {
    let id = this.labelIds.get(value);
    if (!id) {
      id = this.options.newId();
      this.labelIds.set(value, id);
    }
    return id;
  }

  private ingest(bundle: StixBundle): void {
    if (!this.options.upsert) return;
    const knowledge: Knowledge = {
      observables: this.observables,
      indicators: this.indicators,
      relationships: this.relationships,
    };
    ingestBundle(knowledge, bundle, {
      ...this.options.upsert,
      now: this.options.now,
      newId: this.options.newId,
    });
  }

  setMarkings(entityId: string, markings: StandInMarking[]): void {
    this.markings.set(entityId, markings);
  }

  /** What OpenCTI does before it sends a listen message: a work for the connector. */
  createWork(connectorId: string, name: string): string {
    const id = `work_${connectorId}_${this.options.newId()}`;
    this.works.set(id, { id, name, connectorId, status: 'wait', messages: [], inError: false, bundles: 0 });
    return id;
  }

  private isKnownConnector(id: string): boolean {
    return this.known === 'any' || this.known.has(id) || this.connectors.has(id);
  }

  private connectorAnswer(c: StandInConnector) {
    return {
      id: c.id,
      name: c.name,
      active: true,
      auto: c.auto,
      auto_update: c.autoUpdate,
      playbook_compatible: c.playbookCompatible,
      connector_scope: c.scope,
      connector_user_id: 'stand-in-connector-user',
      updated_at: c.updatedAt,
      // Only a 7.x schema has the field; on 6.9 it is never selected.
      ...(this.options.jwks ? { jwks: this.options.jwks } : {}),
      config: {
        listen: `listen_${c.id}`,
        push: `push_${c.id}`,
        listen_callback_uri: c.listenCallbackUri ?? null,
      },
    };
  }

  private connectorRecord(id: string): StandInConnector | undefined {
    const existing = this.connectors.get(id);
    if (existing || !this.isKnownConnector(id)) return existing;
    // Known from the start (registered before the stand-in existed): a plausible record.
    const created: StandInConnector = {
      id,
      name: 'Connector',
      type: 'INTERNAL_ENRICHMENT',
      scope: [],
      auto: false,
      autoUpdate: false,
      playbookCompatible: false,
      listenCallbackUri: undefined,
      state: undefined,
      registrations: 0,
      pings: 0,
      updatedAt: this.options.now().toISOString(),
    };
    this.connectors.set(id, created);
    return created;
  }

  private entityAnswer(id: string) {
    const observable = this.observables.find((o) => o.id === id || o.standard_id === id);
    if (observable) return this.observableAnswer(observable);
    const markings = this.markings.get(id);
    if (!markings) return null;
    const entityType = ENTITY_TYPE_BY_PREFIX[id.split('--')[0] ?? ''] ?? 'Text';
    return {
      __typename: graphQlTypeName(entityType),
      id,
      standard_id: id,
      entity_type: entityType,
      objectMarking: markings,
    };
  }

  private observableAnswer(o: StandInObservable & { id: string }) {
    return {
      createdBy: o.createdById
        ? { __typename: 'Organization', id: o.createdById, standard_id: o.createdById }
        : null,
      __typename: graphQlTypeName(o.entity_type),
      id: o.id,
      standard_id: o.standard_id,
      entity_type: o.entity_type,
      observable_value: o.observable_value,
      updated_at: o.updated_at,
      created_at: o.created_at ?? o.updated_at,
      objectMarking: this.markings.get(o.standard_id) ?? this.markings.get(o.id) ?? o.markings ?? [],
    };
  }

  private work(id: string): StandInWork {
    const work = this.works.get(id);
    if (!work) throw graphQlError('RESOURCE_NOT_FOUND', `Work ${id} not found`);
    return work;
  }

  /** Root resolvers, in the shape graphql-js's default field resolver calls. */
  rootValue(): Record<string, (args: Record<string, unknown>) => unknown> {
    const at = () => this.options.now().toISOString();
    return {
      about: () => ({ version: this.options.version ?? '6.9.17' }),

      connector: (args) => {
        const c = this.connectorRecord(String(args.id));
        return c ? this.connectorAnswer(c) : null;
      },

      stixCoreObject: (args) => this.entityAnswer(String(args.id)),

      stixCyberObservable: (args) => {
        const o = this.observables.find((x) => x.id === String(args.id) || x.standard_id === String(args.id));
        if (!o) return null;
        return {
          ...this.observableAnswer(o),
          x_opencti_score: o.score ?? null,
          x_opencti_description: o.description ?? null,
          objectLabel: (o.labels ?? []).map((value) => ({ id: this.labelId(value), value })),
        };
      },

      stixCyberObservableEdit: (args) => {
        const id = String(args.id);
        return {
          relationDelete: (inner: Record<string, unknown>) => {
            const o = this.observables.find((x) => x.id === id || x.standard_id === id);
            if (!o) throw graphQlError('FUNCTIONAL_ERROR', 'Cannot find the element to update');
            if (inner.relationship_type !== 'object-label') {
              throw graphQlError(
                'UNSUPPORTED_ERROR',
                `The OpenCTI stand-in removes only object-label relations (got ${String(inner.relationship_type)})`,
              );
            }
            const toId = String(inner.toId);
            o.labels = (o.labels ?? []).filter((value) => this.labelIds.get(value) !== toId);
            o.updated_at = at();
            return this.observableAnswer(o);
          },
        };
      },

      stixCyberObservables: (args) => {
        const types = (args.types as string[] | null | undefined) ?? [];
        const filters = args.filters as FilterGroupInput | null | undefined;
        if (filters) assertSupported(filters);
        if (args.search)
          throw graphQlError('UNSUPPORTED_ERROR', 'The OpenCTI stand-in does not support search');
        let list = this.observables.filter(
          (o) => types.length === 0 || types.some((t) => t.toLowerCase() === o.entity_type.toLowerCase()),
        );
        if (filters) list = list.filter((o) => matchesFilterGroup(o, filters));
        const orderBy = (args.orderBy as string | undefined) ?? 'created_at';
        const direction = args.orderMode === 'desc' ? -1 : 1;
        const key = (o: StandInObservable): string =>
          orderBy === 'updated_at'
            ? o.updated_at
            : orderBy === 'observable_value'
              ? o.observable_value
              : (o.created_at ?? o.updated_at);
        list = [...list].sort((a, b) => direction * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        const start = indexOf(args.after as string | null | undefined);
        const first = Math.max(0, Math.min((args.first as number | null | undefined) ?? 500, 5000));
        const slice = list.slice(start, start + first);
        return {
          pageInfo: {
            startCursor: slice.length > 0 ? cursorOf(start) : '',
            endCursor: slice.length > 0 ? cursorOf(start + slice.length - 1) : '',
            hasNextPage: start + slice.length < list.length,
            hasPreviousPage: start > 0,
            globalCount: list.length,
          },
          edges: slice.map((o, i) => ({ cursor: cursorOf(start + i), node: this.observableAnswer(o) })),
        };
      },

      registerConnector: (args) => {
        const input = args.input as Record<string, unknown> | null | undefined;
        if (!input) throw graphQlError('FUNCTIONAL_ERROR', 'Connector input is required');
        const id = String(input.id);
        const previous = this.connectors.get(id);
        const record: StandInConnector = {
          id,
          name: String(input.name),
          type: String(input.type),
          scope: (input.scope as string[] | null | undefined) ?? [],
          auto: input.auto === true,
          autoUpdate: input.auto_update === true,
          playbookCompatible: input.playbook_compatible === true,
          listenCallbackUri: (input.listen_callback_uri as string | null | undefined) ?? undefined,
          ...(typeof input.version === 'string' ? { version: input.version } : {}),
          ...(typeof input.slug === 'string' ? { slug: input.slug } : {}),
          state: previous?.state,
          registrations: (previous?.registrations ?? 0) + 1,
          pings: previous?.pings ?? 0,
          updatedAt: at(),
        };
        this.connectors.set(id, record);
        return this.connectorAnswer(record);
      },

      pingConnector: (args) => {
        const c = this.connectorRecord(String(args.id));
        if (!c) throw graphQlError('FUNCTIONAL_ERROR', 'No connector found with the specified ID');
        c.pings += 1;
        c.state = (args.state as string | null | undefined) ?? undefined;
        c.updatedAt = at();
        return this.connectorAnswer(c);
      },

      workAdd: (args) => {
        const connectorId = String(args.connectorId);
        if (!this.connectorRecord(connectorId)) {
          throw graphQlError('FUNCTIONAL_ERROR', `Invalid connector ${connectorId}`);
        }
        const name = (args.friendlyName as string | null | undefined) ?? `Connector run @ ${at()}`;
        const id = this.createWork(connectorId, name);
        return { id, name, timestamp: at(), status: 'wait' };
      },

      workEdit: (args) => {
        const id = String(args.id);
        return {
          toReceived: (inner: Record<string, unknown>) => {
            const work = this.work(id);
            work.status = 'progress';
            if (typeof inner.message === 'string') work.messages.push(inner.message);
            return id;
          },
          toProcessed: (inner: Record<string, unknown>) => {
            const work = this.work(id);
            work.status = 'complete';
            work.inError = inner.inError === true;
            if (typeof inner.message === 'string') work.messages.push(inner.message);
            return id;
          },
        };
      },

      stixBundlePush: (args) => {
        const bundle = parseBundle(String(args.bundle), 'bundle');
        if (bundle.objects.length === 0) throw graphQlError('FUNCTIONAL_ERROR', 'Invalid bundle');
        const connectorId = String(args.connectorId);
        if (!this.connectorRecord(connectorId)) throw graphQlError('FUNCTIONAL_ERROR', 'Invalid connector');
        const workId = (args.work_id as string | null | undefined) ?? undefined;
        const work = workId ? this.works.get(workId) : undefined;
        if (work) work.bundles += 1;
        this.pushes.push({ at: at(), connectorId, workId, bundle });
        this.ingest(bundle);
        return true;
      },

      playbookStepExecution: (args) => {
        const bundle = parseBundle(String(args.bundle), 'bundle');
        const previousBundle = parseBundle(String(args.previous_bundle), 'previous bundle');
        this.playbookAnswers.push({
          at: at(),
          bundle,
          previousBundle,
          answer: {
            executionId: String(args.execution_id),
            eventId: String(args.event_id),
            executionStart: String(args.execution_start),
            dataInstanceId: String(args.data_instance_id),
            playbookId: String(args.playbook_id),
            previousStepId: String(args.previous_step_id),
            stepId: String(args.step_id),
            previousBundle: String(args.previous_bundle),
            bundle: String(args.bundle),
          },
        });
        this.ingest(playbookOutput(previousBundle, bundle));
        return true;
      },
    };
  }
}
