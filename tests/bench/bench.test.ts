/**
 * The bench's own logic, so that `npm run bench` cannot report the wrong verdict or measure
 * nothing: goals and verdicts, medians, bundle input grouping, and synthetic reports that the
 * mapping really maps (a renamed field would otherwise make section 1 time an empty mapping).
 * No timing is asserted here; CI runs `npm run bench -- --smoke` to prove the bench completes.
 */
import type { Metafile } from 'esbuild';
import { loadConfig } from '../../lib/config';
import { mapIntel } from '../../lib/mapping';
import { biggestInputs } from '../../bench/lib/bundles';
import {
  atLeast,
  atMost,
  below,
  exactly,
  markdownTable,
  summaryLine,
  verdictOf,
  type Figure,
} from '../../bench/lib/report';
import { median } from '../../bench/lib/stats';
import { FIVE_MB, LARGE, syntheticIpReport } from '../../bench/lib/synthetic';

const settings = loadConfig({}, { criminalIp: false, opencti: false }).mapping;

function figure(value: number, goal: Figure['goal'], extra: Partial<Figure> = {}): Figure {
  return { section: 'S', name: `case ${value}`, value, shown: String(value), goal, detail: '', ...extra };
}

describe('verdicts', () => {
  it('passes a figure on the right side of its goal and misses it on the other', () => {
    expect(verdictOf(figure(2, atMost(2, '≤ 2x')))).toBe('PASS');
    expect(verdictOf(figure(2.01, atMost(2, '≤ 2x')))).toBe('MISS');
    expect(verdictOf(figure(0.9, atLeast(0.9, '≥ 0.9')))).toBe('PASS');
    expect(verdictOf(figure(0.89, atLeast(0.9, '≥ 0.9')))).toBe('MISS');
    expect(verdictOf(figure(0, exactly(0, '= 0')))).toBe('PASS');
    expect(verdictOf(figure(1, exactly(0, '= 0')))).toBe('MISS');
    expect(verdictOf(figure(256, below(256, '< 256')))).toBe('MISS');
  });

  it('misses a figure whose side condition fails (e.g. rejected calls) even when the value meets the goal', () => {
    expect(verdictOf(figure(0.95, atLeast(0.9, '≥ 0.9'), { alsoHolds: false }))).toBe('MISS');
  });

  it('reports a figure without a goal as INFO and leaves it and reference figures out of the summary', () => {
    const figures = [
      figure(1, atMost(2, '≤ 2x')),
      figure(5, undefined),
      figure(3, atMost(2, '≤ 2x'), { reference: true }),
    ];
    expect(verdictOf(figures[1]!)).toBe('INFO');
    expect(summaryLine(figures)).toBe(
      'All 1 figures meet their goals (2 reference or INFO figures not counted).',
    );
    expect(summaryLine([...figures, figure(4, atMost(2, '≤ 2x'))])).toMatch(
      /^1 of 2 figures miss their goals/,
    );
    expect(markdownTable(figures)).toContain('| S | case 3 | 3 | ≤ 2x | (MISS) |');
  });
});

describe('statistics', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('bundle inputs', () => {
  it('adds up the output bytes per package, scoped packages included, largest first', () => {
    const metafile = {
      inputs: {},
      outputs: {
        'out/index.js': {
          bytes: 0,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/undici/lib/a.js': { bytesInOutput: 300 },
            'node_modules/undici/lib/b.js': { bytesInOutput: 200 },
            'node_modules/@aws-sdk/client-sqs/dist/index.js': { bytesInOutput: 400 },
            'lib/mapping/ip.ts': { bytesInOutput: 100 },
          },
        },
      },
    } as unknown as Metafile;
    expect(biggestInputs(metafile, 2)).toEqual([
      { name: 'undici', bytes: 500 },
      { name: '@aws-sdk/client-sqs', bytes: 400 },
    ]);
    expect(biggestInputs(metafile, 5).at(-1)).toEqual({ name: 'project code', bytes: 100 });
  });
});

describe('synthetic reports', () => {
  it('hold the numbers of domains, ports and CVEs asked for', () => {
    const report = syntheticIpReport({ ip: '45.33.32.156', ...LARGE }) as Record<string, { data: unknown[] }>;
    expect(report.domain!.data).toHaveLength(1000);
    expect(report.port!.data).toHaveLength(300);
    expect(report.vulnerability!.data).toHaveLength(500);
    expect(new Set(report.port!.data.map((p) => (p as { open_port_no: number }).open_port_no)).size).toBe(
      300,
    );
  });

  it('are padded to at least 5 MB when asked, and the same seed gives the same body', () => {
    const a = JSON.stringify(syntheticIpReport({ ip: '45.33.32.157', ...FIVE_MB }));
    expect(Buffer.byteLength(a)).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(Buffer.byteLength(a)).toBeLessThan(6 * 1024 * 1024);
    expect(JSON.stringify(syntheticIpReport({ ip: '45.33.32.157', ...FIVE_MB }))).toBe(a);
  });

  it('map into as many objects as the mapping settings allow, with no warning', () => {
    const ip = '45.33.32.156';
    const result = mapIntel({
      observable: { type: 'ipv4-addr', value: ip, markingRefs: [] },
      intel: { kind: 'ip', report: syntheticIpReport({ ip, ...LARGE }) },
      settings,
      markingRefs: [],
      now: new Date('2025-06-01T12:00:00.000Z'),
    });
    const count = (type: string) => result.objects.filter((o) => o.type === type).length;
    expect(result.warnings).toEqual([]);
    expect(count('vulnerability')).toBe(settings.maxVulnerabilities);
    expect(count('domain-name') + count('hostname')).toBe(settings.maxRelatedDomains);
    expect(count('software')).toBeGreaterThan(10);
    expect(count('indicator')).toBe(1);
  });
});
