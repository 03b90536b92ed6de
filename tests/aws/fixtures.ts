/** Jobs and helpers shared by the tests of lib/aws and functions/. */
import type { EnrichmentJob } from '../../lib/jobs/types';

export function makeJob(n: number, overrides: Partial<EnrichmentJob> = {}): EnrichmentJob {
  return {
    jobId: `job-${n}`,
    observable: { type: 'ipv4-addr', value: `198.51.100.${n % 256}`, markingRefs: [] },
    origin: { kind: 'enrichment', workId: `work-${n}`, mode: 'manual' },
    receivedAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

/** A playbook job whose bundle is about `bytes` long: too big for an SQS message when large. */
export function makePlaybookJob(n: number, bytes: number): EnrichmentJob {
  const entity = {
    id: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
    type: 'ipv4-addr',
    value: '8.8.8.8',
  };
  const filler = Array.from({ length: Math.ceil(bytes / 1000) }, (_, i) => ({
    id: `note--${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    type: 'note',
    content: 'x'.repeat(900),
  }));
  return makeJob(n, {
    observable: { type: 'ipv4-addr', value: '8.8.8.8', stixId: entity.id, original: entity },
    origin: {
      kind: 'playbook',
      playbook: {
        eventId: 'event-1',
        executionId: 'execution-1',
        playbookId: 'playbook-1',
        dataInstanceId: entity.id,
        stepId: 'step-2',
        previousStepId: 'step-1',
      },
      bundle: {
        type: 'bundle',
        id: 'bundle--6e6a1c1e-0000-4000-8000-000000000000',
        objects: [entity, ...filler],
      },
    },
  });
}

/** A GetObject Body as the SDK returns it, reduced to what the code reads. */
export function s3Body(text: string) {
  return { transformToString: async () => text } as never;
}
