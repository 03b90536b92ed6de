/**
 * Enrichment respects what analysts already have (issue 13), through the listen protocol: OpenCTI
 * listen messages (manual, automatic, playbook) whose `stix_entity` is the observable as the
 * stand-in holds it, parsed by the product's parser, enriched against both stand-ins, and written
 * back to the OpenCTI stand-in, which applies OpenCTI's upsert rules. Each test reads the
 * observable's state, labels and Indicator after a first and a second enrichment with a changed
 * verdict.
 */
import { randomUUID } from 'node:crypto';
import { OCTI_EXTENSION } from '../../lib/jobs/stix-entity';
import { parseListenMessage } from '../../lib/jobs/parse-listen';
import { SUMMARY_END, SUMMARY_START } from '../../lib/mapping/description';
import { OPENCTI_SCO_EXTENSION } from '../../lib/stix/opencti-extensions';
import { isDetecting, type PropertySource, type StandInObservable } from '../../lib/standins/opencti';
import ipCritical from '../../lib/standins/criminalip/data/ip-services-cves.json';
import { CRIMINAL_IP_AUTHOR, indicatorId, equalityPattern, observableId } from '../../lib/stix';
import type { StixObject } from '../../lib/stix/core';
import { ManualClock } from '../helpers/manual-clock';
import { CONNECTOR_ID, startHarness, type Harness } from './harness';

const IP = '64.62.197.76';
const IP_ID = observableId('ipv4-addr', IP);
const INDICATOR_ID = indicatorId(equalityPattern('ipv4-addr', IP));
const ANALYST = 'identity--8e1c2f4a-6b3d-5e7f-9a0b-1c2d3e4f5a6b';
const ANALYST_TEXT = 'Analyst notes: seen in campaign *Blue Fin*.\n\nDo not block: shared hosting.  ';

/** The same host, rated safe: Criminal IP's verdict changed between two enrichments. */
const ipSafe = {
  ...ipCritical,
  score: { inbound: 'Safe', outbound: 'Safe' },
  issues: Object.fromEntries(Object.keys(ipCritical.issues).map((k) => [k, false])),
  ip_category: { count: 0, data: [] },
};

/** The observable as OpenCTI 6.9 exports it: its properties in the SCO extension. */
function exported(o: StandInObservable & { id: string }): StixObject {
  return {
    id: o.standard_id,
    spec_version: '2.1',
    type: 'ipv4-addr',
    value: o.observable_value,
    object_marking_refs: [],
    extensions: {
      [OCTI_EXTENSION]: {
        extension_type: 'property-extension',
        id: o.id,
        type: o.entity_type,
        created_at: o.created_at ?? o.updated_at,
        updated_at: o.updated_at,
      },
      [OPENCTI_SCO_EXTENSION]: {
        extension_type: 'property-extension',
        ...(o.score !== undefined ? { score: o.score } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.createdById !== undefined ? { created_by_ref: o.createdById } : {}),
        labels: o.labels ?? [],
      },
    },
  };
}

type Mode = 'manual' | 'automatic' | 'playbook';

/** The listen message OpenCTI's worker POSTs for `mode`, about the observable as it is now. */
function message(h: Harness, mode: Mode): Record<string, unknown> {
  const entity = exported(h.octi.observable(IP_ID)!);
  if (mode === 'playbook') {
    return {
      internal: {
        playbook: {
          event_id: randomUUID(),
          execution_id: randomUUID(),
          playbook_id: 'playbook-1',
          data_instance_id: entity.id,
          step_id: 'step-enrich',
          previous_step_id: 'step-listen',
        },
      },
      event: {
        entity_id: entity.id,
        bundle: { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [entity] },
      },
    };
  }
  return {
    internal: {
      work_id: h.octi.createWork(CONNECTOR_ID),
      mode: mode === 'manual' ? 'manual' : 'auto',
      trigger: 'update',
    },
    event: {
      entity_id: entity.id,
      entity_type: 'IPv4-Addr',
      stix_entity: JSON.stringify(entity),
      stix_objects: JSON.stringify([entity]),
    },
  };
}

async function enrich(h: Harness, mode: Mode) {
  const parsed = parseListenMessage(message(h, mode), { scope: h.config.opencti.scope, now: new Date() });
  if (parsed.kind !== 'job') throw new Error(`not a job: ${parsed.kind}`);
  return h.run(parsed.job);
}

function seed(h: Harness, extra: Partial<StandInObservable>): void {
  h.octi.setObservables([
    {
      standard_id: IP_ID,
      entity_type: 'IPv4-Addr',
      observable_value: IP,
      updated_at: '2026-01-01T00:00:00.000Z',
      labels: ['analyst-tag'],
      ...extra,
    },
  ]);
}

const state = (h: Harness) => h.octi.observable(IP_ID)!;
const count = (text: string, part: string) => text.split(part).length - 1;

// OpenCTI's importer reads the OpenCTI properties at the top level first (pycti up to 7.260817.0);
// producers are moving them to the extensions: the analysts' values must survive either reading.
const READERS: Array<[Mode, PropertySource]> = (['top-level', 'extensions'] as const).flatMap((from) =>
  (['manual', 'automatic', 'playbook'] as const).map((mode): [Mode, PropertySource] => [mode, from]),
);

describe.each(READERS)('%s enrichment respects analysts (importer reads %s)', (mode, propertiesFrom) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ CACHE_TTL_HOURS: '0' }, { octi: { upsert: { propertiesFrom } } });
  });
  afterEach(() => h.close());

  it('keeps the analyst description, author and labels; verdict labels, score and Indicator follow the verdict', async () => {
    seed(h, { description: ANALYST_TEXT, createdById: ANALYST, score: 40 });

    // First enrichment: critical.
    expect(await enrich(h, mode)).toMatchObject({ kind: 'written' });
    const first = state(h);
    expect(first.description!.startsWith(ANALYST_TEXT)).toBe(true);
    expect(count(first.description!, SUMMARY_START)).toBe(1);
    expect(first.description).toContain('Critical');
    expect(first.createdById).toBe(ANALYST);
    expect(first.score).toBe(95); // raised over the analyst's 40: raising is always allowed
    expect(first.labels).toEqual(
      expect.arrayContaining(['analyst-tag', 'inbound: critical', 'outbound: moderate', 'scanner']),
    );
    const indicator = h.octi.indicators().get(INDICATOR_ID)!;
    expect(indicator).toMatchObject({ detection: true, confidence: 95, createdById: CRIMINAL_IP_AUTHOR.id });
    expect(isDetecting(indicator, new Date())).toBe(true);
    const firstValidFrom = indicator.valid_from;

    // Second enrichment: Criminal IP now rates the host safe.
    h.cip.setIpReport(IP, ipSafe);
    expect(await enrich(h, mode)).toMatchObject({ kind: 'written' });
    const second = state(h);
    // The analyst's text, byte for byte; one summary section, replaced in place.
    expect(second.description!.startsWith(ANALYST_TEXT)).toBe(true);
    expect(count(second.description!, SUMMARY_START)).toBe(1);
    expect(count(second.description!, SUMMARY_END)).toBe(1);
    expect(second.description).not.toContain('Critical');
    expect(second.description!.length).toBeLessThan(first.description!.length);
    expect(second.createdById).toBe(ANALYST);
    // 95 was the connector's own score: a better verdict may lower it.
    expect(second.score).toBe(10);
    expect(second.labels).toEqual(expect.arrayContaining(['analyst-tag', 'inbound: safe', 'outbound: safe']));
    expect(second.labels).not.toContain('inbound: critical');
    expect(second.labels).not.toContain('outbound: moderate');
    expect(second.labels).not.toContain('scanner'); // a state word the connector wrote itself
    const ended = h.octi.indicators().get(INDICATOR_ID)!;
    expect(ended).toMatchObject({ detection: false, valid_from: firstValidFrom });
    expect(isDetecting(ended, new Date())).toBe(false);
    expect(h.octi.requests.filter((r) => r.operationName === 'ObservableLabelRemove').length).toBeGreaterThan(
      0,
    );
  });

  it('never lowers a score someone else set, and keeps a state word an analyst gave', async () => {
    // `vpn` is a state word, but here an analyst set it: the connector never wrote it.
    seed(h, { score: 100, labels: ['analyst-tag', 'vpn'] });
    await enrich(h, mode);
    expect(state(h).score).toBe(100); // 95 < 100, set by someone else
    h.cip.setIpReport(IP, ipSafe);
    await enrich(h, mode);
    expect(state(h).score).toBe(100);
    expect(state(h).labels).toEqual(expect.arrayContaining(['analyst-tag', 'vpn', 'inbound: safe']));
    expect(state(h).labels).not.toContain('inbound: critical');
  });

  it('gives Criminal IP as author only to an observable that has none', async () => {
    seed(h, {});
    await enrich(h, mode);
    expect(state(h).createdById).toBe(CRIMINAL_IP_AUTHOR.id);
    expect(state(h).description!.startsWith(SUMMARY_START)).toBe(true);
  });
});

describe('an analyst changes the connector score', () => {
  it('is never lowered afterwards (SCORE_UPDATE=own)', async () => {
    const h = await startHarness({ CACHE_TTL_HOURS: '0' }, { octi: { upsert: true } });
    try {
      seed(h, {});
      await enrich(h, 'manual');
      expect(state(h).score).toBe(95);
      const edited = { ...state(h), score: 80 };
      h.octi.setObservables([edited]);
      h.cip.setIpReport(IP, ipSafe);
      await enrich(h, 'manual');
      expect(state(h).score).toBe(80);
    } finally {
      await h.close();
    }
  });

  it.each([
    ['replace', 10],
    ['raise', 80],
    ['keep', 80],
  ])('SCORE_UPDATE=%s gives %i', async (policy, expected) => {
    const h = await startHarness({ CACHE_TTL_HOURS: '0', SCORE_UPDATE: policy }, { octi: { upsert: true } });
    try {
      seed(h, { score: 80 });
      h.cip.setIpReport(IP, ipSafe);
      await enrich(h, 'manual');
      expect(state(h).score).toBe(expected);
    } finally {
      await h.close();
    }
  });
});

describe("the connector's Indicator", () => {
  let h: Harness;
  let clock: ManualClock;
  beforeEach(async () => {
    h = await startHarness({ CACHE_TTL_HOURS: '0' }, { octi: { upsert: true } });
    clock = new ManualClock(Date.now());
    h.deps.clock = clock;
    seed(h, {});
  });
  afterEach(() => h.close());

  it('keeps its start and extends its validity while the observable stays bad', async () => {
    await enrich(h, 'manual');
    const first = h.octi.indicators().get(INDICATOR_ID)!;
    clock.advance(86_400);
    await enrich(h, 'manual');
    const second = h.octi.indicators().get(INDICATOR_ID)!;
    expect(second.valid_from).toBe(first.valid_from);
    expect(Date.parse(second.valid_until!)).toBe(Date.parse(first.valid_until!) + 86_400_000);
    expect(second.detection).toBe(true);
  });

  it('carries the evidence as confidence, never lower than its own earlier one (a weaker verdict still updates it)', async () => {
    await enrich(h, 'manual');
    expect(h.octi.indicators().get(INDICATOR_ID)).toMatchObject({ confidence: 95, score: 95 });
    h.cip.setIpReport(IP, { ...ipCritical, score: { inbound: 'Dangerous', outbound: 'Moderate' } });
    clock.advance(60);
    await enrich(h, 'manual');
    // Sent with confidence 75 it would lose against the stored 95 and keep the old score.
    expect(h.octi.indicators().get(INDICATOR_ID)).toMatchObject({ confidence: 95, score: 75 });
    expect(state(h).score).toBe(75);
  });
});

describe('INDICATOR_CONFIDENCE', () => {
  it('sets one fixed confidence when configured', async () => {
    const h = await startHarness(
      { CACHE_TTL_HOURS: '0', INDICATOR_CONFIDENCE: '60' },
      { octi: { upsert: true } },
    );
    try {
      seed(h, {});
      await enrich(h, 'manual');
      expect(h.octi.indicators().get(INDICATOR_ID)).toMatchObject({ confidence: 60 });
    } finally {
      await h.close();
    }
  });
});

describe.each<'manual' | 'playbook'>(['manual', 'playbook'])(
  'an Indicator sent for %s enrichment',
  (mode) => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ CACHE_TTL_HOURS: '0' }, { octi: { upsert: true } });
    });
    afterEach(() => h.close());

    const analystIndicator = (pattern: string): StixObject => ({
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b',
      name: 'Blue Fin C2',
      description: 'Analyst indicator',
      pattern,
      pattern_type: 'stix',
      valid_from: '2026-01-01T00:00:00.000Z',
      created_by_ref: ANALYST,
      object_marking_refs: [],
    });

    function indicatorMessage(entity: StixObject): Record<string, unknown> {
      if (mode === 'playbook') {
        return {
          internal: {
            playbook: {
              event_id: randomUUID(),
              execution_id: randomUUID(),
              playbook_id: 'playbook-1',
              data_instance_id: entity.id,
              step_id: 'step-enrich',
              previous_step_id: 'step-listen',
            },
          },
          event: {
            entity_id: entity.id,
            bundle: { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [entity] },
          },
        };
      }
      return {
        internal: { work_id: h.octi.createWork(CONNECTOR_ID), mode: 'manual', trigger: 'update' },
        event: { entity_id: entity.id, entity_type: 'Indicator', stix_entity: JSON.stringify(entity) },
      };
    }

    it('is enriched through its observable: the observable is enriched, the Indicator scored and linked', async () => {
      const entity = analystIndicator(`[ipv4-addr:value = '${IP}']`);
      for (const [report, score] of [
        [ipCritical, 95],
        [ipSafe, 10],
      ] as const) {
        h.cip.setIpReport(IP, report);
        const parsed = parseListenMessage(indicatorMessage(entity), {
          scope: h.config.opencti.scope,
          now: new Date(),
        });
        if (parsed.kind !== 'job') throw new Error(`not a job: ${parsed.kind}`);
        expect(await h.run(parsed.job)).toMatchObject({ kind: 'written' });
        expect(state(h).score).toBe(score);
        expect(h.octi.indicators().get(entity.id)).toMatchObject({
          score,
          description: 'Analyst indicator',
          createdById: ANALYST,
          valid_from: '2026-01-01T00:00:00.000Z',
        });
        expect(
          [...h.octi.relationships().values()].some(
            (r) => r.relationship_type === 'based-on' && r.source_ref === entity.id && r.target_ref === IP_ID,
          ),
        ).toBe(true);
      }
      if (mode === 'manual') {
        expect([...h.octi.works().values()].every((w) => w.status === 'complete' && !w.inError)).toBe(true);
      } else {
        expect(h.octi.playbookAnswers()).toHaveLength(2);
      }
    });

    it('is answered as unsupported when its pattern is not one comparison on a supported type', () => {
      const entity = analystIndicator("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
      const parsed = parseListenMessage(indicatorMessage(entity), {
        scope: h.config.opencti.scope,
        now: new Date(),
      });
      expect(parsed).toMatchObject({ kind: 'answer-only', rejection: { reason: 'unsupported-type' } });
      const compound = analystIndicator(`[ipv4-addr:value = '${IP}'] OR [ipv4-addr:value = '1.2.3.4']`);
      expect(
        parseListenMessage(indicatorMessage(compound), { scope: h.config.opencti.scope, now: new Date() }),
      ).toMatchObject({ kind: 'answer-only' });
    });
  },
);

describe('neighbours rated by a domain report', () => {
  it('get the score and verdict label the report states, never over someone else’s score, at no extra call', async () => {
    const h = await startHarness({ CACHE_TTL_HOURS: '0' }, { octi: { upsert: true } });
    try {
      const analystScored = observableId('ipv4-addr', '172.217.25.164');
      const unscored = observableId('ipv4-addr', '142.250.206.227');
      h.octi.setObservables([
        {
          standard_id: analystScored,
          entity_type: 'IPv4-Addr',
          observable_value: '172.217.25.164',
          updated_at: '2026-01-01T00:00:00.000Z',
          score: 80,
          labels: [],
        },
      ]);
      const workId = h.octi.createWork(CONNECTOR_ID);
      const entity = {
        id: observableId('domain-name', 'google.com'),
        spec_version: '2.1',
        type: 'domain-name',
        value: 'google.com',
        object_marking_refs: [],
      };
      const parsed = parseListenMessage(
        {
          internal: { work_id: workId, mode: 'manual', trigger: 'update' },
          event: { entity_id: entity.id, entity_type: 'Domain-Name', stix_entity: JSON.stringify(entity) },
        },
        { scope: h.config.opencti.scope, now: new Date() },
      );
      if (parsed.kind !== 'job') throw new Error('not a job');
      expect(await h.run(parsed.job)).toMatchObject({ kind: 'written' });
      expect(h.octi.observable(unscored)).toMatchObject({ score: 10 });
      expect(h.octi.observable(unscored)?.labels).toContain('ip score: safe');
      expect(h.octi.observable(analystScored)).toMatchObject({ score: 80 });
      expect(h.octi.observable(analystScored)?.labels).toContain('ip score: safe');
      expect(Object.keys(h.cip.stats().byEndpoint)).not.toContain('ip-report');
    } finally {
      await h.close();
    }
  });
});
