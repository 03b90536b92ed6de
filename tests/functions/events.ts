/** API Gateway REST proxy events and OpenCTI listen messages for the ingest tests. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export function apiEvent(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; base64?: boolean } = {},
): APIGatewayProxyEvent {
  const raw =
    options.body === undefined
      ? null
      : Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(options.body);
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: options.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body: raw === null ? null : options.base64 ? raw.toString('base64') : raw.toString('utf8'),
    isBase64Encoded: options.base64 === true,
  };
}

export const IPV4_STIX_ID = 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7';

/** A manual enrichment listen message (docs/opencti.md §4.4). */
export function manualEnrichmentMessage(value = '8.8.8.8', workId = 'work_1234') {
  const entity = { id: IPV4_STIX_ID, type: 'ipv4-addr', spec_version: '2.1', value };
  return {
    internal: { work_id: workId, applicant_id: null, draft_id: null, mode: 'manual', trigger: 'update' },
    event: {
      event_type: 'INTERNAL_ENRICHMENT',
      entity_id: IPV4_STIX_ID,
      entity_type: 'IPv4-Addr',
      stix_entity: JSON.stringify(entity),
      stix_objects: JSON.stringify([entity]),
    },
  };
}

/** A playbook "Enrich through connector" message whose bundle is padded to about `bytes`. */
export function playbookMessage(bytes = 0) {
  const entity = { id: IPV4_STIX_ID, type: 'ipv4-addr', spec_version: '2.1', value: '8.8.8.8' };
  const notes = Array.from({ length: Math.ceil(bytes / 1000) }, (_, i) => ({
    id: `note--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    type: 'note',
    spec_version: '2.1',
    content: 'n'.repeat(900),
    object_refs: [IPV4_STIX_ID],
  }));
  return {
    internal: {
      work_id: null,
      playbook: {
        event_id: 'event-1',
        execution_id: 'execution-1',
        playbook_id: 'playbook-1',
        data_instance_id: IPV4_STIX_ID,
        step_id: 'step-2',
        previous_step_id: 'step-1',
      },
      applicant_id: 'automation-user',
      trigger: 'create',
      mode: 'auto',
    },
    event: {
      entity_id: IPV4_STIX_ID,
      bundle: {
        type: 'bundle',
        id: 'bundle--6e6a1c1e-0000-4000-8000-000000000001',
        objects: [entity, ...notes],
      },
    },
  };
}
