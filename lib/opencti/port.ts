/**
 * The OpenCtiPort the pipeline writes back through (its interface lives here, with the adapter)
 * and its implementation over the GraphQL client: the work lifecycle, the bundle push, the
 * playbook answer and the reads, each one GraphQL operation.
 */
import type { OpenCtiSettings } from '../config';
import type { StixBundle } from '../stix/core';
import type { OpenCtiClient } from './client';
import {
  ENTITY_MARKINGS,
  OBSERVABLE_LABEL_REMOVE,
  OBSERVABLE_STATE,
  PLAYBOOK_STEP_EXECUTION,
  STIX_BUNDLE_PUSH,
  WORK_ADD,
  WORK_TO_PROCESSED,
  WORK_TO_RECEIVED,
  type PlaybookStepExecutionVariables,
} from './documents';
import { ServerError } from './errors';

export interface PlaybookAnswer {
  executionId: string;
  eventId: string;
  executionStart: string;
  dataInstanceId: string;
  playbookId: string;
  previousStepId: string;
  stepId: string;
  previousBundle: string;
  bundle: string;
}

/** Write-back to OpenCTI. Throws OpenCtiError subclasses. */
export interface OpenCtiPort {
  workAdd(friendlyName: string): Promise<string>;
  workToReceived(workId: string, message: string): Promise<void>;
  workToProcessed(workId: string, message: string, inError: boolean): Promise<void>;
  pushBundle(bundle: StixBundle, workId: string | undefined): Promise<void>;
  playbookStepExecution(answer: PlaybookAnswer): Promise<void>;
  /** STIX ids of the markings on an entity, or null when OpenCTI does not know the entity. */
  readMarkings(entityId: string): Promise<string[] | null>;
  /** What the observable holds now (score, description, author, labels), or null when unknown. */
  readObservableState(entityId: string): Promise<ObservableState | null>;
  /** Takes labels (by label id) off an observable; the labels themselves stay. */
  removeLabels(entityId: string, labelIds: string[]): Promise<void>;
}

/** An observable as OpenCTI holds it, for the decisions that respect what analysts wrote. */
export interface ObservableState {
  score?: number;
  description?: string;
  /** STIX id of the author, when it has one. */
  createdByRef?: string;
  /** Label values, with OpenCTI's label id when it was read from OpenCTI (needed to remove one). */
  labels: Array<{ value: string; id?: string }>;
}

/** OpenCTI shows work names and messages in the UI; keep them to a readable size. */
const MAX_TEXT = 1000;
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 3)}...` : text);

export interface OpenCtiPortOptions {
  /**
   * The listen message's `internal.draft_id`: every call then carries `opencti-draft-id`, so the
   * results land in that draft workspace, as OpenCTI expects for enrichment inside a draft.
   */
  draftId?: string;
}

export function playbookVariables(answer: PlaybookAnswer): PlaybookStepExecutionVariables {
  return {
    execution_id: answer.executionId,
    event_id: answer.eventId,
    execution_start: answer.executionStart,
    data_instance_id: answer.dataInstanceId,
    playbook_id: answer.playbookId,
    previous_step_id: answer.previousStepId,
    step_id: answer.stepId,
    previous_bundle: answer.previousBundle,
    bundle: answer.bundle,
  };
}

export function createOpenCtiPort(
  client: OpenCtiClient,
  settings: Pick<OpenCtiSettings, 'connectorId'>,
  options: OpenCtiPortOptions = {},
): OpenCtiPort {
  const api = options.draftId ? client.withDraft(options.draftId) : client;

  return {
    async workAdd(friendlyName: string): Promise<string> {
      const data = await api.execute(WORK_ADD, {
        connectorId: settings.connectorId,
        friendlyName: clip(friendlyName),
      });
      return data.workAdd.id;
    },

    async workToReceived(workId: string, message: string): Promise<void> {
      await api.execute(WORK_TO_RECEIVED, { id: workId, message: clip(message) });
    },

    async workToProcessed(workId: string, message: string, inError: boolean): Promise<void> {
      await api.execute(WORK_TO_PROCESSED, { id: workId, message: clip(message), inError });
    },

    async pushBundle(bundle: StixBundle, workId: string | undefined): Promise<void> {
      const data = await api.execute(STIX_BUNDLE_PUSH, {
        connectorId: settings.connectorId,
        bundle: JSON.stringify(bundle),
        workId: workId ?? null,
      });
      // true only means "queued for the workers"; anything else means it was not.
      if (data.stixBundlePush !== true) {
        throw new ServerError(
          `OpenCTI ${STIX_BUNDLE_PUSH.operationName}: the bundle was not queued (answer ${String(data.stixBundlePush)}). Try again later.`,
          { operation: STIX_BUNDLE_PUSH.operationName },
        );
      }
    },

    async playbookStepExecution(answer: PlaybookAnswer): Promise<void> {
      const data = await api.execute(PLAYBOOK_STEP_EXECUTION, playbookVariables(answer));
      if (data.playbookStepExecution !== true) {
        throw new ServerError(
          `OpenCTI ${PLAYBOOK_STEP_EXECUTION.operationName}: the playbook step was not resumed (answer ${String(data.playbookStepExecution)}). Check the playbook's executions in OpenCTI.`,
          { operation: PLAYBOOK_STEP_EXECUTION.operationName },
          // The answer may have been taken in part: resending could run the rest of the playbook twice.
          false,
        );
      }
    },

    async readMarkings(entityId: string): Promise<string[] | null> {
      const data = await api.execute(ENTITY_MARKINGS, { id: entityId });
      const entity = data.stixCoreObject;
      if (!entity) return null;
      return (entity.objectMarking ?? []).map((marking) => marking.standard_id);
    },

    async readObservableState(entityId: string): Promise<ObservableState | null> {
      const data = await api.execute(OBSERVABLE_STATE, { id: entityId });
      const o = data.stixCyberObservable;
      if (!o) return null;
      return {
        ...(typeof o.x_opencti_score === 'number' ? { score: o.x_opencti_score } : {}),
        ...(typeof o.x_opencti_description === 'string' ? { description: o.x_opencti_description } : {}),
        ...(o.createdBy?.standard_id ? { createdByRef: o.createdBy.standard_id } : {}),
        labels: (o.objectLabel ?? [])
          .filter((l): l is { id: string; value: string } => typeof l.value === 'string')
          .map((l) => ({ value: l.value, id: l.id })),
      };
    },

    async removeLabels(entityId: string, labelIds: string[]): Promise<void> {
      // One mutation per label: OpenCTI refuses a document that repeats a mutation field.
      for (const labelId of labelIds) {
        await api.execute(OBSERVABLE_LABEL_REMOVE, {
          id: entityId,
          labelId,
          relationshipType: 'object-label',
        });
      }
    },
  };
}
