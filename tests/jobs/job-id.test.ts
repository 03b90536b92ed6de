import { listenJobId, newCliJob, newSweepJob, webhookJobId } from '../../lib/jobs/job-id';
import { JobRejection } from '../../lib/jobs/types';
import { TLP } from './fixtures';

const day1 = new Date('2026-02-10T03:00:00.000Z');
const day1Later = new Date('2026-02-10T23:59:59.000Z');
const day2 = new Date('2026-02-11T00:00:01.000Z');

describe('newCliJob', () => {
  it('makes a new, forced request each time, with the value normalised', () => {
    const a = newCliJob({ type: 'domain-name', value: 'Example.COM' }, day1);
    const b = newCliJob({ type: 'domain-name', value: 'Example.COM' }, day1);
    expect(a).toEqual({
      jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      observable: { type: 'domain-name', value: 'example.com' },
      origin: { kind: 'cli' },
      receivedAt: '2026-02-10T03:00:00.000Z',
      force: true,
    });
    expect(b.jobId).not.toBe(a.jobId);
  });

  it('refuses an invalid value with the reason', () => {
    expect(() => newCliJob({ type: 'ipv4-addr', value: '300.1.1.1' })).toThrow(JobRejection);
    expect(() => newCliJob({ type: 'ipv4-addr', value: '300.1.1.1' })).toThrow(/above 255/);
  });
});

describe('newSweepJob', () => {
  const observable = {
    type: 'ipv4-addr' as const,
    value: '8.8.8.8',
    stixId: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
    markingRefs: [TLP.green],
  };

  it('keeps what the sweep knows of the observable', () => {
    expect(newSweepJob(observable, day1)).toEqual({
      jobId: expect.any(String),
      observable,
      origin: { kind: 'reenrich' },
      receivedAt: '2026-02-10T03:00:00.000Z',
    });
  });

  it('gives the same observable the same id all day long, and a new one the next day', () => {
    const first = newSweepJob(observable, day1).jobId;
    expect(newSweepJob(observable, day1Later).jobId).toBe(first);
    expect(newSweepJob(observable, day2).jobId).not.toBe(first);
    expect(newSweepJob({ ...observable, value: '8.8.4.4' }, day1).jobId).not.toBe(first);
  });
});

describe('job id derivation', () => {
  const subject = { type: 'ipv4-addr' as const, value: '8.8.8.8' };

  it('keeps the parts apart: a separator inside a value cannot make two requests collide', () => {
    const a = webhookJobId({ form: 'minimal', sender: 'a|b', event: 'c' }, subject);
    const b = webhookJobId({ form: 'minimal', sender: 'a', event: 'b|c' }, subject);
    expect(a).not.toBe(b);
  });

  it('never gives an enrichment and a playbook step the same id', () => {
    const enrichment = listenJobId({ kind: 'enrichment', workId: 'x', mode: 'auto' }, subject);
    const playbook = listenJobId(
      {
        kind: 'playbook',
        playbook: {
          eventId: 'e',
          executionId: 'x',
          playbookId: 'p',
          dataInstanceId: 'd',
          stepId: 's',
          previousStepId: 'q',
        },
        bundle: { type: 'bundle', id: 'bundle--1', objects: [] },
      },
      subject,
    );
    expect(enrichment).not.toBe(playbook);
    expect(listenJobId({ kind: 'enrichment', workId: 'x', mode: 'manual' }, subject)).toBe(enrichment);
  });
});
