import { Agent } from 'undici';
import { ValidationError } from '../../lib/opencti/errors';
import { createOpenCtiPort } from '../../lib/opencti/port';
import type { PlaybookAnswer } from '../../lib/opencti/port';
import { startOpenCtiStandIn, tlpMarking, type OpenCtiStandIn } from '../../lib/standins/opencti';
import type { StixBundle } from '../../lib/stix/core';
import { CONNECTOR_ID, settingsFor, testClient } from './support';

const agent = new Agent();
afterAll(() => agent.close());

const observable = {
  type: 'ipv4-addr',
  spec_version: '2.1',
  id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
  value: '8.8.8.8',
};
const bundle: StixBundle = {
  type: 'bundle',
  id: 'bundle--0d7ae2b2-8f4c-4f4e-9a55-2a86f9b1c0de',
  objects: [
    observable,
    {
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--a2b0f4a9-4a4e-5f6c-9a57-0f3c3c6f8a11',
      name: 'Criminal IP',
      identity_class: 'organization',
    },
  ],
};

describe('OpenCtiPort over the stand-in', () => {
  let standIn: OpenCtiStandIn;
  const port = (draftId?: string) => {
    const settings = settingsFor(standIn);
    return createOpenCtiPort(testClient(settings, agent).client, settings, { draftId });
  };
  beforeEach(async () => {
    standIn = await startOpenCtiStandIn({ seed: 11 });
  });
  afterEach(() => standIn.close());

  it('answers a listen message: received, bundle pushed into the work, processed', async () => {
    const workId = standIn.createWork(CONNECTOR_ID, 'Enrichment (8.8.8.8)');
    const opencti = port();
    await opencti.workToReceived(workId, 'Criminal IP enrichment started');
    await opencti.pushBundle(bundle, workId);
    await opencti.workToProcessed(workId, 'Enriched 8.8.8.8: 2 objects', false);

    expect(standIn.requests.map((r) => r.operationName)).toEqual([
      'WorkToReceived',
      'StixBundlePush',
      'WorkToProcessed',
    ]);
    expect(standIn.pushes()).toEqual([{ at: expect.any(String), connectorId: CONNECTOR_ID, workId, bundle }]);
    expect(standIn.works().get(workId)).toMatchObject({
      status: 'complete',
      inError: false,
      bundles: 1,
      messages: ['Criminal IP enrichment started', 'Enriched 8.8.8.8: 2 objects'],
    });
    // The bundle travels as a JSON string, as stixBundlePush requires.
    expect(typeof standIn.requests[1]?.variables.bundle).toBe('string');
  });

  it('creates its own work for a sweep or webhook job, named and owned by our connector', async () => {
    const opencti = port();
    const workId = await opencti.workAdd('Criminal IP enrichment (8.8.8.8)');
    await opencti.pushBundle(bundle, workId);
    await opencti.workToProcessed(workId, 'done', false);
    const work = standIn.works().get(workId);
    expect(work).toMatchObject({
      name: 'Criminal IP enrichment (8.8.8.8)',
      connectorId: CONNECTOR_ID,
      status: 'complete',
    });
    expect(standIn.requests[0]?.variables).toEqual({
      connectorId: CONNECTOR_ID,
      friendlyName: 'Criminal IP enrichment (8.8.8.8)',
    });
  });

  it('closes a work in error with the reason', async () => {
    const workId = standIn.createWork(CONNECTOR_ID);
    await port().workToProcessed(workId, 'Criminal IP quota exhausted', true);
    expect(standIn.works().get(workId)).toMatchObject({
      status: 'complete',
      inError: true,
      messages: ['Criminal IP quota exhausted'],
    });
  });

  it('pushes without a work when there is none', async () => {
    await port().pushBundle(bundle, undefined);
    expect(standIn.requests[0]?.variables).toMatchObject({ connectorId: CONNECTOR_ID, workId: null });
    expect(standIn.bundles()).toEqual([bundle]);
  });

  it('keeps long work names and messages to a readable size', async () => {
    const opencti = port();
    const workId = await opencti.workAdd('x'.repeat(5000));
    await opencti.workToReceived(workId, 'y'.repeat(5000));
    const work = standIn.works().get(workId);
    expect(work?.name.length).toBeLessThanOrEqual(1000);
    expect(work?.messages[0]?.length).toBeLessThanOrEqual(1000);
  });

  it('answers a playbook step with every argument, bundles as JSON strings', async () => {
    const previous: StixBundle = {
      type: 'bundle',
      id: 'bundle--11111111-2222-4333-8444-555555555555',
      objects: [observable],
    };
    const answer: PlaybookAnswer = {
      executionId: 'exec-1',
      eventId: 'event-1',
      executionStart: '2026-02-10T10:00:00.000Z',
      dataInstanceId: observable.id,
      playbookId: 'playbook-1',
      previousStepId: 'step-0',
      stepId: 'step-1',
      previousBundle: JSON.stringify(previous),
      bundle: JSON.stringify(bundle),
    };
    await port().playbookStepExecution(answer);
    const [recorded] = standIn.playbookAnswers();
    expect(recorded?.answer).toEqual(answer);
    expect(recorded?.bundle).toEqual(bundle);
    expect(recorded?.previousBundle).toEqual(previous);
    expect(standIn.requests[0]?.variables).toMatchObject({
      execution_id: 'exec-1',
      event_id: 'event-1',
      data_instance_id: observable.id,
      playbook_id: 'playbook-1',
      previous_step_id: 'step-0',
      step_id: 'step-1',
    });
    expect(standIn.works().size).toBe(0);
  });

  it('reads the standard ids of an entity’s markings, null for an unknown entity', async () => {
    standIn.setMarkings(observable.id, [
      tlpMarking('TLP:AMBER'),
      { standard_id: 'marking-definition--pap-green', definition_type: 'PAP', definition: 'PAP:GREEN' },
    ]);
    standIn.setMarkings('domain-name--00000000-0000-5000-8000-000000000001', []);
    const opencti = port();
    expect(await opencti.readMarkings(observable.id)).toEqual([
      'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
      'marking-definition--pap-green',
    ]);
    expect(await opencti.readMarkings('domain-name--00000000-0000-5000-8000-000000000001')).toEqual([]);
    expect(await opencti.readMarkings('ipv4-addr--00000000-0000-5000-8000-00000000dead')).toBeNull();
    expect(standIn.requests[0]?.variables).toEqual({ id: observable.id });
  });

  it('sends every call of a draft job into that draft', async () => {
    const workId = standIn.createWork(CONNECTOR_ID);
    const opencti = port('draft-42');
    await opencti.workToReceived(workId, 'started');
    await opencti.pushBundle(bundle, workId);
    await opencti.workToProcessed(workId, 'done', false);
    expect(standIn.requests.map((r) => r.draftId)).toEqual(['draft-42', 'draft-42', 'draft-42']);
  });
});

describe('OpenCtiPort against a platform that does not know the connector', () => {
  it('fails a push with ValidationError ("Invalid connector"), as OpenCTI does', async () => {
    const standIn = await startOpenCtiStandIn({ knownConnectors: [] });
    try {
      const settings = settingsFor(standIn);
      const opencti = createOpenCtiPort(testClient(settings, agent).client, settings);
      const error = await opencti.pushBundle(bundle, undefined).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/Invalid connector/);
      expect(standIn.bundles()).toEqual([]);
    } finally {
      await standIn.close();
    }
  });
});
