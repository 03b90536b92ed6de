/**
 * What the OpenCTI stand-in knows and records: the entities it answers about, and the traces of
 * what the product asked it to do (works, pushed bundles, playbook answers, connectors).
 */
import type { PlaybookAnswer } from '../../opencti/port';
import type { StixBundle } from '../../stix/core';

export interface StandInMarking {
  /** Internal id (filters may name it); defaults to none. */
  id?: string;
  standard_id: string;
  definition_type: string;
  definition: string;
}

/** An observable in the stand-in's knowledge base, for the sweep query and the markings read. */
export interface StandInObservable {
  /** Internal id; generated when absent. */
  id?: string;
  standard_id: string;
  /** OpenCTI entity type, e.g. IPv4-Addr, Domain-Name, Url. */
  entity_type: string;
  observable_value: string;
  /** ISO time of the last update. */
  updated_at: string;
  created_at?: string;
  score?: number;
  markings?: StandInMarking[];
  /** Label values (objectLabel filters match them). */
  labels?: string[];
  /** x_opencti_description. */
  description?: string;
  /** Standard id of the author (created_by). */
  createdById?: string;
  /** The stored confidence the upsert rules compare with (0 when absent). */
  confidence?: number;
}

export interface RecordedRequest {
  /** ISO time the request arrived. */
  at: string;
  /** The operation name sent in the body, or the document's own. */
  operationName: string | undefined;
  operationType: 'query' | 'mutation' | 'subscription' | undefined;
  query: string;
  variables: Record<string, unknown>;
  /** Value of the `opencti-draft-id` header. */
  draftId: string | undefined;
  /** The Bearer token matched. */
  authorized: boolean;
  /** How the stand-in answered. */
  outcome: 'ok' | 'graphql-error' | 'rejected' | 'fault-http' | 'fault-hang' | 'fault-graphql';
  status: number | undefined;
  /** extensions.code of the first GraphQL error answered. */
  errorCode: string | undefined;
}

export type WorkStatus = 'wait' | 'progress' | 'complete';

export interface StandInWork {
  id: string;
  name: string;
  connectorId: string;
  status: WorkStatus;
  /** Messages of toReceived and toProcessed, in order. */
  messages: string[];
  inError: boolean;
  /** Bundles pushed into this work. */
  bundles: number;
}

export interface RecordedPush {
  at: string;
  connectorId: string;
  workId: string | undefined;
  bundle: StixBundle;
}

export interface RecordedPlaybookAnswer {
  at: string;
  answer: PlaybookAnswer;
  /** `bundle` and `previous_bundle`, parsed. */
  bundle: StixBundle;
  previousBundle: StixBundle;
}

export interface StandInConnector {
  id: string;
  name: string;
  type: string;
  scope: string[];
  auto: boolean;
  autoUpdate: boolean;
  playbookCompatible: boolean;
  listenCallbackUri: string | undefined;
  /** Sent only where RegisterConnectorInput has them (newer 7.x). */
  version?: string;
  slug?: string;
  state: string | undefined;
  registrations: number;
  pings: number;
  /** ISO time of the last registration or ping. */
  updatedAt: string;
}
