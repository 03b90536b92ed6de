/**
 * The stand-in's scan registry: full and lite scans whose progress advances by one step per
 * status poll (following a script), and the list of finished full scans that
 * GET /v1/domain/reports answers from.
 */
import { createHash } from 'node:crypto';
import { hostOf, scanUrlOf } from './catalogue';

/** Percentages answered by successive polls (the last one repeats); -1 failed, -2 no such domain. */
export interface ScanScript {
  progress: number[];
  /** Serve the report even before 100 % (the real service fills it progressively). */
  reportBeforeDone?: boolean;
}

export interface ScanState {
  id: string;
  mode: 'full' | 'lite';
  query: string;
  /** The query as a URL, as the service echoes it. */
  url: string;
  script: ScanScript;
  polls: number;
  /** Last percentage answered (0 before the first poll). */
  percentage: number;
  createdAt: Date;
  finishedAt?: Date;
}

/** Scans of `query` that already exist when the stand-in starts, `ageHours` old. */
export interface RecordedScan {
  query: string;
  ageHours: number;
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, the API's timestamp format. */
export function cipTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      url.hash = '';
      return url.toString().replace(/\/+$/, '');
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

export class ScanRegistry {
  private readonly scans = new Map<string, ScanState>();
  private nextFullId = 14_341_560;
  private liteCount = 0;
  started = { full: 0, lite: 0 };

  constructor(
    private readonly scriptFor: (query: string, mode: 'full' | 'lite') => ScanScript,
    private readonly now: () => Date,
  ) {}

  /** Registers finished full scans as if they had run `ageHours` ago. */
  seed(recorded: readonly RecordedScan[]): void {
    for (const r of recorded) {
      const at = new Date(this.now().getTime() - r.ageHours * 3_600_000);
      const scan = this.create(r.query, 'full', { progress: [100] }, at);
      scan.percentage = 100;
      scan.finishedAt = at;
    }
  }

  start(query: string, mode: 'full' | 'lite'): ScanState {
    this.started[mode] += 1;
    return this.create(query, mode, this.scriptFor(query, mode), this.now());
  }

  get(id: string, mode: 'full' | 'lite'): ScanState | undefined {
    const scan = this.scans.get(id);
    return scan?.mode === mode ? scan : undefined;
  }

  /** A full scan still running, if any (for the "still scanning" answer). */
  running(): ScanState | undefined {
    return [...this.scans.values()].find((s) => s.mode === 'full' && !s.finishedAt && s.percentage >= 0);
  }

  /** Answers one status poll: the next percentage of the script. */
  poll(scan: ScanState): number {
    const steps = scan.script.progress;
    const percentage = steps[Math.min(scan.polls, steps.length - 1)] ?? 100;
    scan.polls += 1;
    scan.percentage = percentage;
    if (percentage >= 100 && !scan.finishedAt) scan.finishedAt = this.now();
    return percentage;
  }

  reportReady(scan: ScanState): boolean {
    return scan.finishedAt !== undefined || (scan.script.reportBeforeDone === true && scan.percentage >= 0);
  }

  /** Finished full scans describing `query` (a URL: that URL; a domain: the domain), newest first. */
  finishedFor(query: string): ScanState[] {
    const isUrl = /^https?:\/\//i.test(query.trim());
    const host = hostOf(query);
    return [...this.scans.values()]
      .filter((s) => s.mode === 'full' && s.finishedAt)
      .filter((s) => {
        if (isUrl) return sameUrl(s.url, query.trim());
        const h = hostOf(s.url);
        return h === host || h === `www.${host}`;
      })
      .sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0));
  }

  private create(query: string, mode: 'full' | 'lite', script: ScanScript, at: Date): ScanState {
    const id =
      mode === 'full'
        ? String(this.nextFullId++)
        : createHash('md5')
            .update(`lite-${(this.liteCount += 1)}`)
            .digest('hex');
    const scan: ScanState = {
      id,
      mode,
      query,
      url: scanUrlOf(query),
      script,
      polls: 0,
      percentage: 0,
      createdAt: at,
    };
    this.scans.set(id, scan);
    return scan;
  }
}
