/**
 * The stand-in's upsert rules (lib/standins/opencti/upsert.ts), driven over loopback through the
 * product's own port: attributes replaced under the confidence rule, labels only added, the author
 * protected, indicators upserted, playbook answers merged with the step's input.
 */
import { Agent } from 'undici';
import { buildSchema, parse, validate } from 'graphql';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createOpenCtiPort } from '../../../lib/opencti';
import { OBSERVABLE_LABEL_REMOVE, OBSERVABLE_STATE } from '../../../lib/opencti/documents';
import type { OpenCtiPort } from '../../../lib/opencti/port';
import { startOpenCtiStandIn, isDetecting, type OpenCtiStandIn } from '../../../lib/standins/opencti';
import type { StixBundle, StixObject } from '../../../lib/stix/core';
import { settingsFor, testClient } from '../../opencti/support';

const IP = 'ipv4-addr--aaaaaaaa-0000-5000-8000-000000000001';
const ANALYST = 'identity--bbbbbbbb-0000-5000-8000-000000000001';
const CRIMINAL_IP = 'identity--cccccccc-0000-5000-8000-000000000001';
const INDICATOR = 'indicator--dddddddd-0000-5000-8000-000000000001';

const bundle = (...objects: StixObject[]): StixBundle => ({
  type: 'bundle',
  id: 'bundle--00000000-0000-4000-8000-000000000001',
  objects,
});
const ip = (extra: Record<string, unknown>): StixObject => ({
  type: 'ipv4-addr',
  spec_version: '2.1',
  id: IP,
  value: '198.51.100.7',
  ...extra,
});

describe('OpenCTI stand-in upsert rules', () => {
  const agent = new Agent();
  let octi: OpenCtiStandIn;
  let port: OpenCtiPort;

  async function start(userMaxConfidence = 100) {
    octi = await startOpenCtiStandIn({ upsert: { userMaxConfidence } });
    port = createOpenCtiPort(testClient(settingsFor(octi), agent).client, settingsFor(octi));
  }
  afterEach(() => octi.close());
  afterAll(() => agent.close());

  it('creates, then replaces attributes at equal confidence, adds labels and protects the author', async () => {
    await start();
    await port.pushBundle(
      bundle(
        ip({
          x_opencti_score: 100,
          x_opencti_description: 'analyst',
          created_by_ref: ANALYST,
          labels: ['mine'],
        }),
      ),
      undefined,
    );
    expect(octi.observable(IP)).toMatchObject({ score: 100, description: 'analyst', createdById: ANALYST });

    await port.pushBundle(
      bundle(
        ip({ x_opencti_score: 30, x_opencti_description: 'bot', created_by_ref: CRIMINAL_IP, labels: ['x'] }),
      ),
      undefined,
    );
    // No "keep the higher score" rule for observables: a lower score replaces at equal confidence.
    expect(octi.observable(IP)).toMatchObject({
      score: 30,
      description: 'bot',
      createdById: ANALYST,
      labels: ['mine', 'x'],
    });
  });

  it('keeps attributes stored with a higher confidence than the user may write', async () => {
    await start(50);
    octi.setObservables([
      {
        standard_id: IP,
        entity_type: 'IPv4-Addr',
        observable_value: '198.51.100.7',
        updated_at: '2026-01-01T00:00:00.000Z',
        score: 90,
        confidence: 80,
        labels: [],
      },
    ]);
    await port.pushBundle(bundle(ip({ x_opencti_score: 10, labels: ['added anyway'] })), undefined);
    expect(octi.observable(IP)).toMatchObject({ score: 90, labels: ['added anyway'] });
  });

  it('reads the score from the SCO extension when the top level has none (platform export)', async () => {
    await start();
    await port.pushBundle(
      bundle(
        ip({
          extensions: {
            'extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82': {
              extension_type: 'property-extension',
              score: 42,
              labels: ['from extension'],
            },
          },
        }),
      ),
      undefined,
    );
    expect(octi.observable(IP)).toMatchObject({ score: 42, labels: ['from extension'] });
  });

  it('answers the state read and removes one label through the mutation', async () => {
    await start();
    await port.pushBundle(
      bundle(ip({ x_opencti_score: 75, labels: ['inbound: dangerous', 'mine'] })),
      undefined,
    );
    const state = await port.readObservableState(IP);
    expect(state).toMatchObject({ score: 75, labels: [{ value: 'inbound: dangerous' }, { value: 'mine' }] });
    const stale = state?.labels.find((l) => l.value === 'inbound: dangerous');
    await port.removeLabels(IP, [stale?.id ?? '']);
    expect(octi.observable(IP)?.labels).toEqual(['mine']);
    expect(await port.readObservableState('ipv4-addr--aaaaaaaa-0000-5000-8000-0000000000ff')).toBeNull();
  });

  it('upserts indicators: validity and detection replaced, detecting follows them', async () => {
    await start();
    const indicator = (extra: Record<string, unknown>): StixObject => ({
      type: 'indicator',
      spec_version: '2.1',
      id: INDICATOR,
      name: '198.51.100.7',
      pattern: "[ipv4-addr:value = '198.51.100.7']",
      pattern_type: 'stix',
      valid_from: '2026-01-01T00:00:00.000Z',
      valid_until: '2099-01-01T00:00:00.000Z',
      x_opencti_detection: true,
      confidence: 75,
      ...extra,
    });
    await port.pushBundle(bundle(indicator({})), undefined);
    expect(isDetecting(octi.indicators().get(INDICATOR)!, new Date())).toBe(true);
    // Lower confidence: the validity is not replaced.
    await port.pushBundle(
      bundle(
        indicator({ confidence: 10, valid_until: '2026-01-02T00:00:00.000Z', x_opencti_detection: false }),
      ),
      undefined,
    );
    expect(isDetecting(octi.indicators().get(INDICATOR)!, new Date())).toBe(true);
    await port.pushBundle(
      bundle(indicator({ valid_until: '2026-01-02T00:00:00.000Z', x_opencti_detection: false })),
      undefined,
    );
    expect(octi.indicators().get(INDICATOR)).toMatchObject({ detection: false, confidence: 75 });
    expect(isDetecting(octi.indicators().get(INDICATOR)!, new Date())).toBe(false);
  });

  it("ingests a playbook answer merged with the step's input: lists are joined", async () => {
    await start();
    const input = bundle(ip({ labels: ['inbound: safe'] }));
    await port.playbookStepExecution({
      executionId: 'e',
      eventId: 'ev',
      executionStart: new Date().toISOString(),
      dataInstanceId: IP,
      playbookId: 'p',
      previousStepId: 's0',
      stepId: 's1',
      previousBundle: JSON.stringify(input),
      bundle: JSON.stringify(bundle(ip({ labels: ['inbound: critical'], x_opencti_score: 95 }))),
    });
    expect(octi.observable(IP)).toMatchObject({ score: 95, labels: ['inbound: safe', 'inbound: critical'] });
  });

  it('records pushes without ingesting them unless upsert is on', async () => {
    const plain = await startOpenCtiStandIn();
    const plainPort = createOpenCtiPort(testClient(settingsFor(plain), agent).client, settingsFor(plain));
    await plainPort.pushBundle(bundle(ip({ x_opencti_score: 1 })), undefined);
    expect(plain.observable(IP)).toBeUndefined();
    expect(plain.bundles()).toHaveLength(1);
    await plain.close();
    await start();
  });
});

describe('documents that respect analysts', () => {
  const schemas = ['opencti-6.9.17', 'opencti-7.260309.0-lts', 'opencti-7.260817.0'];
  it.each(schemas)('validate against the %s schema', (name) => {
    const schema = buildSchema(
      readFileSync(
        path.resolve(__dirname, `../../fixtures/reference/opencti/${name}.schema.graphql`),
        'utf8',
      ),
    );
    for (const doc of [OBSERVABLE_STATE, OBSERVABLE_LABEL_REMOVE]) {
      expect(validate(schema, parse(doc.query)).map((e) => e.message)).toEqual([]);
    }
  });
});
