/**
 * 3. Credits per observable: Criminal IP calls the stand-in counts for each case, against the
 * calls the official OpenCTI connector makes for the same request (docs/criminalip-api.md §12.4:
 * report + malicious-info for an IPv4, reports lookup + report for a domain with a recent scan;
 * it keeps no cache and no record of finished requests, so a repeat costs the same again). The
 * official flows are replayed against the same stand-in in the same run, so both columns are
 * counted, not assumed.
 */
import { CriminalIpApi, CriminalIpClient, CriminalIpIntelSource, scanUntilDone } from '../lib/criminalip';
import type { JobOrigin, Observable } from '../lib/jobs/types';
import type { JobReport } from '../lib/local/consumer';
import { startRuntime } from '../lib/local/runtime';
import { enrichJob, type PipelineDeps } from '../lib/pipeline/enrich-job';
import { silentLog } from '../lib/core/log';
import type { StandInStats } from '../lib/standins/criminalip';
import { atMost, exactly, type Figure } from './lib/report';
import type { StandInsProcess, StandInUrls } from './lib/standins-process';
import { benchWorld, CONNECTOR_ID, ipObservable, job, realDeps, WEBHOOK_TOKEN } from './lib/world';

const SECTION = '3. Credits per observable';
const IP = '64.62.197.76';
const DOMAIN = 'google.com'; // the stand-in holds a two-day-old full scan of it
const DUPLICATE_IP = '179.61.228.2';

interface Count {
  calls: number;
  credits: number;
}

/** Lookup calls: the account check a ping makes (`/v1/user/me`, no credit) is not one. */
function lookupCalls(stats: StandInStats): number {
  return stats.calls - (stats.byEndpoint['user-me'] ?? 0);
}

async function counted(host: StandInsProcess, work: () => Promise<unknown>): Promise<Count> {
  const before = await host.criminalIpStats();
  await work();
  const after = await host.criminalIpStats();
  return { calls: lookupCalls(after) - lookupCalls(before), credits: after.creditsUsed - before.creditsUsed };
}

/** The official connector's flows (docs/criminalip-api.md §12.4), as plain calls. */
function officialFlows(urls: StandInUrls) {
  const api = new CriminalIpApi(
    new CriminalIpClient({
      apiKey: urls.criminalIpKey,
      apiUrl: urls.criminalIpUrl,
      concurrency: 1,
      timeoutMs: 10_000,
      maxRetries: 0,
    }),
  );
  return {
    async ipv4(ip: string): Promise<void> {
      const report = await api.ipReport(ip);
      if (report && typeof report === 'object' && 'ip' in report) await api.maliciousInfo(ip);
    },
    async domainWithRecentScan(domain: string): Promise<void> {
      const listing = (await api.domainReports(domain)) as {
        data?: { reports?: Array<{ scan_id?: string | number }> };
      };
      const scanId = listing.data?.reports?.[0]?.scan_id;
      if (scanId !== undefined) await api.domainReport(String(scanId));
    },
  };
}

/** One job: an automatic enrichment of a new observable (into `workId`), or a webhook request. */
async function enrichOnce(
  deps: PipelineDeps,
  observable: Observable,
  /** The OpenCTI work of a listen message; undefined for a webhook request. */
  workId: string | undefined,
): Promise<string> {
  const origin: JobOrigin =
    workId === undefined
      ? { kind: 'webhook', source: 'bench' }
      : { kind: 'enrichment', workId, mode: 'auto', trigger: 'create' };
  const outcome = await enrichJob(job(observable, origin), { receiveCount: 1, maxReceiveCount: 5 }, deps);
  return outcome.kind;
}

/**
 * The same webhook twice through the local runtime (ingest handler, queue, consumer), as the
 * notifier sends one notification per recipient:
 * - `together`: both arrive while the consumer is busy with another job, so they are received in
 *   one batch and processed side by side (the hard case: neither is "done" when the other starts);
 * - `after`: the second arrives once the first has been processed.
 * Returns the Criminal IP calls the two copies made together, and their outcomes.
 */
async function duplicateWebhook(
  host: StandInsProcess,
  timing: 'together' | 'after',
): Promise<{ calls: number; outcomes: string[] }> {
  // A slow Criminal IP keeps the consumer busy with the first job while the copies arrive.
  const urls = await host.start({ latencyMs: timing === 'together' ? 400 : 0, concurrency: 1 }, 0);
  const world = benchWorld(urls);
  const reports: JobReport[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const runtime = await startRuntime(world.config, {
    log: silentLog,
    settings: { reenrichIntervalMinutes: 0 },
    idlePollMs: 20,
    onJob: (report) => {
      reports.push(report);
      for (const waiter of waiters) if (reports.length >= waiter.count) waiter.resolve();
    },
  });
  const reported = (count: number) =>
    new Promise<void>((resolve, reject) => {
      if (reports.length >= count) return resolve();
      const timer = setTimeout(
        () => reject(new Error(`only ${reports.length} of ${count} jobs were reported`)),
        30_000,
      );
      waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  const post = async (value: string, requestId: string) => {
    const response = await fetch(`${runtime.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-token': WEBHOOK_TOKEN },
      body: JSON.stringify({
        observables: [{ type: 'ipv4-addr', value }],
        source: 'bench',
        request_id: requestId,
      }),
    });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`POST /webhook answered ${response.status}`);
  };
  try {
    if (timing === 'together') {
      await post('8.8.4.4', 'busy-1');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the consumer has taken it
    }
    const before = await host.criminalIpStats();
    await post(DUPLICATE_IP, 'duplicate-1');
    if (timing === 'after') await reported(1);
    await post(DUPLICATE_IP, 'duplicate-1');
    await reported(3 - (timing === 'after' ? 1 : 0));
    const after = await host.criminalIpStats();
    const copies = reports.filter((r) => r.observable?.value === DUPLICATE_IP);
    const outcomes = copies.map((r) =>
      r.outcome === 'skipped' ? `skipped (${String(r.detail.reason)})` : r.outcome,
    );
    const busyCalls = timing === 'together' ? 1 : 0;
    return { calls: lookupCalls(after) - lookupCalls(before) - busyCalls, outcomes };
  } finally {
    await runtime.stop({ graceMs: 0 });
    world.close();
  }
}

const plural = (n: number) => `${n} call${n === 1 ? '' : 's'}`;

function figure(name: string, ours: Count, official: number, goal: number, detail: string): Figure {
  return {
    section: SECTION,
    name,
    value: ours.calls,
    shown: `${plural(ours.calls)} (official ${official})`,
    goal: exactly(goal, `= ${goal}`),
    detail: `${ours.credits} credits spent; ${detail}`,
  };
}

/** An IPv4, the same again, and a domain with a recent report, through enrichJob. */
async function singleLookups(
  host: StandInsProcess,
): Promise<{ figures: Figure[]; officialCopyCalls: number }> {
  const urls = await host.start({ latencyMs: 0, concurrency: 1 }, 0);
  const world = benchWorld(urls);
  const deps = realDeps(world.config);
  const official = officialFlows(urls);
  try {
    const [ipWork, domainWork] = await host.createWorks(2, CONNECTOR_ID);
    let outcome = '';

    const first = await counted(
      host,
      async () => (outcome = await enrichOnce(deps, ipObservable(IP), ipWork)),
    );
    const officialIp = await counted(host, () => official.ipv4(IP));
    const figures = [
      figure(
        'IPv4, first enrichment',
        first,
        officialIp.calls,
        1,
        `outcome ${outcome}; official: report + malicious-info`,
      ),
    ];

    const repeat = await counted(
      host,
      async () => (outcome = await enrichOnce(deps, ipObservable(IP), undefined)),
    );
    const officialRepeat = await counted(host, () => official.ipv4(IP));
    figures.push(
      figure(
        'IPv4 again within the freshness window',
        repeat,
        officialRepeat.calls,
        0,
        `outcome ${outcome} from the cache (CACHE_TTL_HOURS ${world.config.cacheTtlHours}); official has no cache`,
      ),
    );

    const domain: Observable = { type: 'domain-name', value: DOMAIN, markingRefs: [] };
    const recent = await counted(host, async () => (outcome = await enrichOnce(deps, domain, domainWork)));
    const officialDomain = await counted(host, () => official.domainWithRecentScan(DOMAIN));
    figures.push(
      figure(
        'domain with a recent report',
        recent,
        officialDomain.calls,
        1,
        `outcome ${outcome}: the quick verdict calls it safe, so neither the listing nor the report is read (scan mode auto)`,
      ),
    );

    // The official connector answers each copy of a request in full: twice its IPv4 flow.
    const officialTwice = await counted(host, async () => {
      await official.ipv4(DUPLICATE_IP);
      await official.ipv4(DUPLICATE_IP);
    });
    return { figures, officialCopyCalls: officialTwice.calls / 2 };
  } finally {
    deps.ledger.close();
    world.close();
  }
}

/**
 * The domain path, side by side: scan mode auto (the default: quick verdict, recent report, lite
 * scan, full scan only when undetermined) against today's full-scan path (CRIMINALIP_SCAN_MODE=full:
 * recent report, else a full scan), each case looked up to its final answer. Each path gets its
 * own unknown domain, so that one path's scan is never the other's recent report.
 */
async function domainPath(host: StandInsProcess): Promise<Figure[]> {
  const urls = await host.start({ latencyMs: 0, concurrency: 1 }, 0);
  const auto = benchWorld(urls, { CRIMINALIP_SCAN_MODE: 'auto' });
  const full = benchWorld(urls, { CRIMINALIP_SCAN_MODE: 'full' });
  const sources = {
    auto: CriminalIpIntelSource.fromSettings(auto.config.criminalIp),
    full: CriminalIpIntelSource.fromSettings(full.config.criminalIp),
  };
  const lookup = (mode: 'auto' | 'full', observable: Observable) =>
    counted(host, () => scanUntilDone(sources[mode], observable, { sleep: async () => {} }));
  const domain = (value: string): Observable => ({ type: 'domain-name', value, markingRefs: [] });
  const cases: Array<{ name: string; auto: Observable; full: Observable }> = [
    { name: 'called safe by the quick verdict', auto: domain('example.com'), full: domain('example.com') },
    { name: 'called malicious', auto: domain('secure-signin.xyz'), full: domain('secure-signin.xyz') },
    { name: 'with a recent full report', auto: domain('google.com'), full: domain('google.com') },
    { name: 'unknown, no recent report', auto: domain('status-page.net'), full: domain('status-page.io') },
    {
      name: 'URL on a domain called safe',
      auto: { type: 'url', value: 'https://example.com/login', markingRefs: [] },
      full: { type: 'url', value: 'https://example.com/signin', markingRefs: [] },
    },
  ];
  const figures: Figure[] = [];
  try {
    for (const c of cases) {
      const ours = await lookup('auto', c.auto);
      const today = await lookup('full', c.full);
      figures.push({
        section: SECTION,
        name: `domain path: ${c.name}`,
        value: ours.calls,
        shown: `${plural(ours.calls)}, ${ours.credits} credits (full-scan path ${today.calls}, ${today.credits})`,
        goal: atMost(today.calls, `≤ ${today.calls} calls`),
        detail: `scan mode auto against CRIMINALIP_SCAN_MODE=full, same stand-in, same run`,
      });
    }
    return figures;
  } finally {
    auto.close();
    full.close();
  }
}

export async function creditsPerObservable(host: StandInsProcess): Promise<Figure[]> {
  try {
    const { figures, officialCopyCalls } = await singleLookups(host);
    figures.push(...(await domainPath(host)));
    for (const timing of ['together', 'after'] as const) {
      const duplicate = await duplicateWebhook(host, timing);
      // What the second copy cost: the first copy's one lookup is expected.
      const extra = duplicate.calls - 1;
      figures.push(
        figure(
          timing === 'together'
            ? 'duplicate webhook, both copies in one batch'
            : 'duplicate webhook, 2nd copy after the 1st is done',
          { calls: extra, credits: extra },
          officialCopyCalls,
          0,
          `through ingest, queue and consumer: ${plural(duplicate.calls)} for both copies; outcomes ${duplicate.outcomes.join(', ')}`,
        ),
      );
    }
    return figures;
  } finally {
    await host.stopStandIns();
  }
}
