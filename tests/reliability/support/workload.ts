/**
 * A seeded, mixed workload as OpenCTI would send it: manual and automatic listen messages,
 * playbook steps, webhook notifications (template and minimal forms), over a pool of observables
 * of every type (with a few hot ones, some marked TLP:RED, some private or reserved), plus the
 * duplicates the platform really sends (a listen message re-POSTed, a notification sent once per
 * target user).
 */
import type { TlpLevel } from '../../../lib/config';
import { listenMessage, stixEntityOf } from '../../../lib/local/demo-messages';
import { seededRandom } from '../../../lib/standins/criminalip';
import type { ObservableStixType } from '../../../lib/stix/core';
import { CONNECTOR_ID, type World } from './world';

export interface Subject {
  type: ObservableStixType;
  value: string;
  /** A private, loopback or reserved target: accepted, never sent to Criminal IP. */
  private?: boolean;
}

export type RequestKind = 'manual' | 'auto' | 'playbook' | 'webhook-template' | 'webhook-minimal';

export interface WorkloadRequest {
  kind: RequestKind;
  route: '/opencti/callback' | '/webhook';
  body: string;
  /** Jobs the request should create (observables it carries). */
  observables: number;
  /** A copy of an earlier request, sent again as the platform does. */
  duplicate: boolean;
}

/** Observables of every type the product enriches; values are stand-in data, not real hosts. */
export function observablePool(seed: number): Subject[] {
  const random = seededRandom(seed);
  const byte = () => 1 + Math.floor(random() * 253);
  const pool: Subject[] = [];
  const firstOctets = [23, 45, 64, 89, 104, 151, 179, 185];
  for (let i = 0; i < 160; i += 1) {
    pool.push({
      type: 'ipv4-addr',
      value: `${firstOctets[i % firstOctets.length]}.${byte()}.${byte()}.${byte()}`,
    });
  }
  pool.push({ type: 'ipv4-addr', value: '64.62.197.76' }, { type: 'ipv4-addr', value: '179.61.228.2' });
  for (let i = 0; i < 20; i += 1) {
    pool.push({ type: 'ipv6-addr', value: `2a00:1450:40${10 + i}:80b::${(200 + i).toString(16)}` });
  }
  pool.push({ type: 'ipv6-addr', value: '2606:4700:4700::1111' });
  for (let i = 0; i < 16; i += 1) pool.push({ type: 'domain-name', value: `shop-${i}.net` });
  pool.push({ type: 'domain-name', value: 'google.com' });
  for (let i = 0; i < 8; i += 1) pool.push({ type: 'hostname', value: `mail.shop-${i}.net` });
  for (let i = 0; i < 12; i += 1) pool.push({ type: 'url', value: `https://login-${i}.org/account?id=${i}` });
  pool.push(
    { type: 'ipv4-addr', value: '10.1.2.3', private: true },
    { type: 'ipv4-addr', value: '192.168.0.10', private: true },
    { type: 'ipv4-addr', value: '127.0.0.1', private: true },
    { type: 'ipv6-addr', value: 'fe80::1', private: true },
    { type: 'domain-name', value: 'printer.local', private: true },
    { type: 'url', value: 'http://10.0.0.1/admin', private: true },
  );
  return pool;
}

export interface WorkloadOptions {
  seed: number;
  manual: number;
  auto: number;
  playbook: number;
  /** Webhook requests of each form; each carries `perWebhook` observables. */
  webhooks: number;
  perWebhook: number;
  /** Share of listen messages and webhooks sent twice. */
  duplicateShare: number;
  /** Share of listen messages marked TLP:RED (never sent to Criminal IP). */
  redShare: number;
}

/** Builds the requests (creating the OpenCTI works listen messages refer to) in a shuffled order. */
export function buildWorkload(world: World, options: WorkloadOptions): WorkloadRequest[] {
  const random = seededRandom(options.seed);
  const pool = observablePool(options.seed);
  // A few hot observables take a third of the draws: the cache and the claims have work to do.
  const hot = pool.slice(0, 6);
  const pick = (): Subject =>
    random() < 0.33 ? hot[Math.floor(random() * hot.length)]! : pool[Math.floor(random() * pool.length)]!;
  const createdAt = world.clock.now();
  const requests: WorkloadRequest[] = [];
  const add = (request: Omit<WorkloadRequest, 'duplicate'>) => {
    requests.push({ ...request, duplicate: false });
    if (random() < options.duplicateShare) requests.push({ ...request, duplicate: true });
  };

  const listen = (mode: 'manual' | 'auto') => {
    const subject = pick();
    const tlp: TlpLevel | undefined =
      random() < options.redShare ? 'TLP:RED' : random() < 0.5 ? 'TLP:GREEN' : undefined;
    const workId = world.octi.createWork(CONNECTOR_ID, `Enrichment (${subject.value})`);
    const trigger = mode === 'manual' ? 'update' : random() < 0.5 ? 'create' : 'update';
    const body = listenMessage({
      workId,
      type: subject.type,
      value: subject.value,
      tlp,
      mode,
      trigger,
      createdAt,
    });
    add({ kind: mode, route: '/opencti/callback', body: JSON.stringify(body), observables: 1 });
  };
  for (let i = 0; i < options.manual; i += 1) listen('manual');
  for (let i = 0; i < options.auto; i += 1) listen('auto');

  for (let i = 0; i < options.playbook; i += 1) {
    const subject = pick();
    const entity = stixEntityOf({ type: subject.type, value: subject.value, createdAt });
    const body = {
      internal: {
        work_id: null,
        playbook: {
          event_id: `event-${i}`,
          execution_id: `execution-${i}`,
          playbook_id: 'playbook-enrich',
          data_instance_id: entity.id,
          step_id: 'step-criminalip',
          previous_step_id: 'step-trigger',
        },
        applicant_id: 'automation-user',
        mode: 'auto',
        trigger: 'create',
      },
      event: {
        entity_id: entity.id,
        bundle: {
          type: 'bundle',
          id: `bundle--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
          objects: [entity],
        },
      },
    };
    add({ kind: 'playbook', route: '/opencti/callback', body: JSON.stringify(body), observables: 1 });
  }

  for (let i = 0; i < options.webhooks; i += 1) {
    const template = distinct(pick, options.perWebhook).map((s) => stixEntityOf({ ...s, createdAt }));
    const templateBody = {
      notification: { id: `notification-${i}`, name: `Trigger ${i}`, trigger_type: 'live' },
      objects: template,
      events: [],
    };
    add({
      kind: 'webhook-template',
      route: '/webhook',
      body: JSON.stringify(templateBody),
      observables: template.length,
    });
    const minimal = distinct(pick, options.perWebhook);
    const minimalBody = {
      observables: minimal.map((s) => ({ type: s.type, value: s.value })),
      source: 'reliability-suite',
      request_id: `request-${i}`,
    };
    add({
      kind: 'webhook-minimal',
      route: '/webhook',
      body: JSON.stringify(minimalBody),
      observables: minimal.length,
    });
  }

  // Shuffle on seeded random keys, each duplicate sent after its original.
  const order = requests.map((request, index) => ({ request, key: random(), index }));
  order.sort((a, b) => a.key - b.key);
  const seen = new Set<string>();
  const shuffled: WorkloadRequest[] = [];
  const held: WorkloadRequest[] = [];
  for (const { request } of order) {
    if (request.duplicate && !seen.has(request.body)) held.push(request);
    else {
      shuffled.push(request);
      seen.add(request.body);
    }
  }
  return [...shuffled, ...held];
}

function distinct(pick: () => Subject, count: number): Subject[] {
  const chosen = new Map<string, Subject>();
  for (let tries = 0; chosen.size < count && tries < count * 20; tries += 1) {
    const subject = pick();
    chosen.set(`${subject.type}:${subject.value}`, subject);
  }
  return [...chosen.values()];
}

export interface PostReport {
  requests: number;
  byStatus: Record<number, number>;
}

/** POSTs every request through the local HTTP server, in order. */
export async function postAll(world: World, requests: readonly WorkloadRequest[]): Promise<PostReport> {
  const byStatus: Record<number, number> = {};
  for (const request of requests) {
    const { status } = await world.post(request.route, request.body);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }
  return { requests: requests.length, byStatus };
}
