/**
 * Every GraphQL document the product sends to OpenCTI, in one place.
 *
 * Rules every document here follows (tests/opencti/documents.test.ts checks them against the
 * OpenCTI 6.9.17 schema):
 * - one named operation per document: OpenCTI rejects a document that repeats a mutation field
 *   (graphql-no-alias), so there is never a batch to build;
 * - every argument value is a variable: nothing is ever pasted into a document;
 * - `idempotent` says whether sending the same request twice is harmless. The client resends a
 *   non-idempotent document only when the first attempt provably never reached OpenCTI.
 *
 * The stand-in (lib/standins/opencti) serves a schema trimmed to exactly these documents: after
 * changing one, run `npx tsx lib/standins/opencti/generate-schema.ts`.
 */

/** A document with the shapes of its answer (`TData`) and variables, for typed calls. */
export interface GraphQlDocument<TData, TVariables> {
  readonly operationName: string;
  readonly query: string;
  readonly idempotent: boolean;
  /**
   * The platform lines whose schema has what the document selects: 'all' (6.9.x and 7.x), or
   * '7.x' for documents sent only once the platform is known to be 7.x (platform-version.ts).
   */
  readonly platforms?: 'all' | '7.x';
  /** Type carrier only: never set. */
  readonly __types?: { data: TData; variables: TVariables };
}

function document<TData, TVariables>(
  operationName: string,
  idempotent: boolean,
  query: string,
  platforms: 'all' | '7.x' = 'all',
): GraphQlDocument<TData, TVariables> {
  return { operationName, idempotent, query: query.trim(), platforms };
}

// ---------------------------------------------------------------------------------------------
// Connector lifecycle (§4.1, §4.2)

export type ConnectorType =
  | 'EXTERNAL_IMPORT'
  | 'INTERNAL_IMPORT_FILE'
  | 'INTERNAL_ENRICHMENT'
  | 'INTERNAL_ANALYSIS'
  | 'INTERNAL_EXPORT_FILE'
  | 'STREAM';

export interface RegisterConnectorInput {
  id: string;
  name: string;
  type: ConnectorType;
  scope: string[];
  auto: boolean;
  auto_update: boolean;
  playbook_compatible: boolean;
  listen_callback_uri: string | null;
  /** Only where the platform's RegisterConnectorInput has them (newer 7.x). */
  version?: string;
  slug?: string;
}

/** What OpenCTI says about our connector (registration, and the read below). */
export interface ConnectorRecord {
  id: string;
  name: string;
  active: boolean | null;
  auto: boolean | null;
  auto_update: boolean | null;
  playbook_compatible: boolean | null;
  connector_scope: string[] | null;
  connector_user_id: string | null;
  updated_at: string | null;
  config: { listen_callback_uri: string | null } | null;
}

const CONNECTOR_FIELDS = `
    id
    name
    active
    auto
    auto_update
    playbook_compatible
    connector_scope
    connector_user_id
    updated_at
    config {
      listen_callback_uri
    }`;

/** Creates or updates the connector (same id): safe to repeat. */
export const REGISTER_CONNECTOR = document<
  { registerConnector: ConnectorRecord | null },
  { input: RegisterConnectorInput }
>(
  'RegisterConnector',
  true,
  `
mutation RegisterConnector($input: RegisterConnectorInput) {
  registerConnector(input: $input) {${CONNECTOR_FIELDS}
  }
}`,
);

/** Keeps the connector "active" (OpenCTI drops it after 5 minutes without a ping). */
export const PING_CONNECTOR = document<
  { pingConnector: { id: string; active: boolean | null; updated_at: string | null } | null },
  { id: string; state: string | null }
>(
  'PingConnector',
  true,
  `
mutation PingConnector($id: ID!, $state: String) {
  pingConnector(id: $id, state: $state) {
    id
    active
    updated_at
  }
}`,
);

/** Reads the connector as OpenCTI has it registered (null when it is not). */
export const READ_CONNECTOR = document<{ connector: ConnectorRecord | null }, { id: string }>(
  'ReadConnector',
  true,
  `
query ReadConnector($id: String!) {
  connector(id: $id) {${CONNECTOR_FIELDS}
  }
}`,
);

// ---------------------------------------------------------------------------------------------
// Platform detection (docs/opencti-7.md §1.6, §6): both work on 6.9.x and 7.x.

/** The platform version; `about` exists on every line, so this is the safe first question. */
export const PLATFORM_VERSION = document<{ about: { version: string } | null }, Record<string, never>>(
  'PlatformVersion',
  true,
  `
query PlatformVersion {
  about {
    version
  }
}`,
);

/** The fields of a type (`__type` passes OpenCTI's introspection guard, which refuses `__schema`). */
export const TYPE_FIELDS = document<
  {
    __type: {
      name: string | null;
      fields: Array<{ name: string }> | null;
      inputFields: Array<{ name: string }> | null;
    } | null;
  },
  { name: string }
>(
  'TypeFields',
  true,
  `
query TypeFields($name: String!) {
  __type(name: $name) {
    name
    fields {
      name
    }
    inputFields {
      name
    }
  }
}`,
);

/** 7.x: the JWKS that verifies the worker's callback JWTs (a JSON string, the same for every connector). */
export const READ_CONNECTOR_JWKS = document<
  { connector: { id: string; jwks: string } | null },
  { id: string }
>(
  'ReadConnectorJwks',
  true,
  `
query ReadConnectorJwks($id: String!) {
  connector(id: $id) {
    id
    jwks
  }
}`,
  '7.x',
);

/** 7.x: the registration, answering with the JWKS as well. */
export const REGISTER_CONNECTOR_7 = document<
  { registerConnector: (ConnectorRecord & { jwks: string }) | null },
  { input: RegisterConnectorInput }
>(
  'RegisterConnector',
  true,
  `
mutation RegisterConnector($input: RegisterConnectorInput) {
  registerConnector(input: $input) {${CONNECTOR_FIELDS}
    jwks
  }
}`,
  '7.x',
);

// ---------------------------------------------------------------------------------------------
// Work lifecycle (§4.5)

/** Creates a work: a second call creates a second work, so it is not idempotent. */
export const WORK_ADD = document<{ workAdd: { id: string } }, { connectorId: string; friendlyName: string }>(
  'WorkAdd',
  false,
  `
mutation WorkAdd($connectorId: String!, $friendlyName: String) {
  workAdd(connectorId: $connectorId, friendlyName: $friendlyName) {
    id
  }
}`,
);

export const WORK_TO_RECEIVED = document<
  { workEdit: { toReceived: string } | null },
  { id: string; message: string }
>(
  'WorkToReceived',
  true,
  `
mutation WorkToReceived($id: ID!, $message: String) {
  workEdit(id: $id) {
    toReceived(message: $message)
  }
}`,
);

export const WORK_TO_PROCESSED = document<
  { workEdit: { toProcessed: string } | null },
  { id: string; message: string; inError: boolean }
>(
  'WorkToProcessed',
  true,
  `
mutation WorkToProcessed($id: ID!, $message: String, $inError: Boolean) {
  workEdit(id: $id) {
    toProcessed(message: $message, inError: $inError)
  }
}`,
);

// ---------------------------------------------------------------------------------------------
// Write-back (§3, §4.6)

/**
 * Queues a bundle for ingestion. The workers upsert every object, so pushing the same bundle
 * twice converges to the same knowledge: treated as idempotent.
 */
export const STIX_BUNDLE_PUSH = document<
  { stixBundlePush: boolean | null },
  { connectorId: string; bundle: string; workId: string | null }
>(
  'StixBundlePush',
  true,
  `
mutation StixBundlePush($connectorId: String!, $bundle: String!, $workId: String) {
  stixBundlePush(connectorId: $connectorId, bundle: $bundle, work_id: $workId)
}`,
);

export interface PlaybookStepExecutionVariables {
  execution_id: string;
  event_id: string;
  execution_start: string;
  data_instance_id: string;
  playbook_id: string;
  previous_step_id: string;
  step_id: string;
  previous_bundle: string;
  bundle: string;
}

/** Resumes a playbook: answering twice would run the rest of the playbook twice. */
export const PLAYBOOK_STEP_EXECUTION = document<
  { playbookStepExecution: boolean | null },
  PlaybookStepExecutionVariables
>(
  'PlaybookStepExecution',
  false,
  `
mutation PlaybookStepExecution(
  $execution_id: ID!
  $event_id: ID!
  $execution_start: DateTime!
  $data_instance_id: ID!
  $playbook_id: ID!
  $previous_step_id: ID!
  $step_id: ID!
  $previous_bundle: String!
  $bundle: String!
) {
  playbookStepExecution(
    execution_id: $execution_id
    event_id: $event_id
    execution_start: $execution_start
    data_instance_id: $data_instance_id
    playbook_id: $playbook_id
    previous_step_id: $previous_step_id
    step_id: $step_id
    previous_bundle: $previous_bundle
    bundle: $bundle
  )
}`,
);

// ---------------------------------------------------------------------------------------------
// Reads (§7)

export interface MarkingRecord {
  standard_id: string;
  definition_type: string | null;
  definition: string | null;
}

/**
 * The markings of any entity, by internal id, standard_id or one of its other STIX ids.
 * `stixCoreObject` rather than `stixCyberObservable` so that any entity a request names works.
 */
export const ENTITY_MARKINGS = document<
  {
    stixCoreObject: {
      id: string;
      standard_id: string;
      entity_type: string;
      objectMarking: MarkingRecord[] | null;
    } | null;
  },
  { id: string }
>(
  'EntityMarkings',
  true,
  `
query EntityMarkings($id: String!) {
  stixCoreObject(id: $id) {
    id
    standard_id
    entity_type
    objectMarking {
      standard_id
      definition_type
      definition
    }
  }
}`,
);

/** OpenCTI FilterGroup (§7): filters combined by `mode`, nested groups likewise. */
export interface FilterGroup {
  mode: 'and' | 'or';
  filters: Filter[];
  filterGroups: FilterGroup[];
}

export type FilterOperator =
  | 'eq'
  | 'not_eq'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'match'
  | 'wildcard'
  | 'contains'
  | 'not_contains'
  | 'ends_with'
  | 'not_ends_with'
  | 'starts_with'
  | 'not_starts_with'
  | 'script'
  | 'nil'
  | 'not_nil'
  | 'search'
  | 'within'
  // 7.x (filter-operators.ts says which version accepts which)
  | 'only_eq_to'
  | 'not_only_eq_to'
  | 'has_changed'
  | 'not_has_changed';

export interface Filter {
  key: string[];
  values: unknown[];
  operator?: FilterOperator;
  mode?: 'and' | 'or';
}

export interface ObservableNode {
  id: string;
  standard_id: string;
  entity_type: string;
  observable_value: string;
  updated_at: string;
  objectMarking: MarkingRecord[] | null;
  /** The author: REENRICH_SCOPE=own keeps what Criminal IP authored. */
  createdBy: { standard_id: string } | null;
}

export interface ObservablesPage {
  pageInfo: { endCursor: string; hasNextPage: boolean; globalCount: number };
  edges: Array<{ node: ObservableNode }>;
}

/** One page of observables, for the re-enrichment sweep. */
export const STALE_OBSERVABLES = document<
  { stixCyberObservables: ObservablesPage | null },
  {
    types: string[];
    filters: FilterGroup;
    first: number;
    after: string | null;
    orderBy: 'updated_at';
    orderMode: 'asc' | 'desc';
  }
>(
  'StaleObservables',
  true,
  `
query StaleObservables(
  $types: [String]
  $filters: FilterGroup
  $first: Int
  $after: ID
  $orderBy: StixCyberObservablesOrdering
  $orderMode: OrderingMode
) {
  stixCyberObservables(
    types: $types
    filters: $filters
    first: $first
    after: $after
    orderBy: $orderBy
    orderMode: $orderMode
  ) {
    pageInfo {
      endCursor
      hasNextPage
      globalCount
    }
    edges {
      node {
        id
        standard_id
        entity_type
        observable_value
        updated_at
        objectMarking {
          standard_id
          definition_type
          definition
        }
        createdBy {
          standard_id
        }
      }
    }
  }
}`,
);

// ---------------------------------------------------------------------------------------------
// What analysts already have (issue 13): read before writing, remove our stale verdict labels

export interface ObservableStateRecord {
  id: string;
  standard_id: string;
  entity_type: string;
  x_opencti_score: number | null;
  x_opencti_description: string | null;
  createdBy: { id: string; standard_id: string } | null;
  objectLabel: Array<{ id: string; value: string | null }> | null;
}

/** The observable's score, description, author and labels (with their ids), as OpenCTI has them. */
export const OBSERVABLE_STATE = document<
  { stixCyberObservable: ObservableStateRecord | null },
  { id: string }
>(
  'ObservableState',
  true,
  `
query ObservableState($id: String!) {
  stixCyberObservable(id: $id) {
    id
    standard_id
    entity_type
    x_opencti_score
    x_opencti_description
    createdBy {
      id
      standard_id
    }
    objectLabel {
      id
      value
    }
  }
}`,
);

/**
 * Takes one label off an observable (the label itself stays in OpenCTI). Removing a label that is
 * already gone changes nothing, so it is safe to repeat.
 */
export const OBSERVABLE_LABEL_REMOVE = document<
  { stixCyberObservableEdit: { relationDelete: { id: string } | null } | null },
  { id: string; labelId: string; relationshipType: 'object-label' }
>(
  'ObservableLabelRemove',
  true,
  `
mutation ObservableLabelRemove($id: ID!, $labelId: StixRef!, $relationshipType: String!) {
  stixCyberObservableEdit(id: $id) {
    relationDelete(toId: $labelId, relationship_type: $relationshipType) {
      id
    }
  }
}`,
);

/** Every document above: the schema tests and the stand-in's trimmed schema are built from this list. */
export const ALL_DOCUMENTS: ReadonlyArray<GraphQlDocument<unknown, unknown>> = [
  REGISTER_CONNECTOR,
  PING_CONNECTOR,
  READ_CONNECTOR,
  WORK_ADD,
  WORK_TO_RECEIVED,
  WORK_TO_PROCESSED,
  STIX_BUNDLE_PUSH,
  PLAYBOOK_STEP_EXECUTION,
  ENTITY_MARKINGS,
  STALE_OBSERVABLES,
  OBSERVABLE_STATE,
  OBSERVABLE_LABEL_REMOVE,
  PLATFORM_VERSION,
  TYPE_FIELDS,
  READ_CONNECTOR_JWKS,
  REGISTER_CONNECTOR_7,
] as ReadonlyArray<GraphQlDocument<unknown, unknown>>;

/** The documents a platform of that line may receive (the stand-in's schemas are trimmed to them). */
export function documentsFor(line: '6.9' | '7.x'): ReadonlyArray<GraphQlDocument<unknown, unknown>> {
  return ALL_DOCUMENTS.filter((d) => (d.platforms ?? 'all') === 'all' || line === '7.x');
}
