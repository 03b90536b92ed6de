/**
 * The connector's own cap on Criminal IP calls, shared by every consumer through the spend store
 * (DynamoDB in AWS, SQLite locally).
 *
 * Two windows, the UTC day and the UTC month, each with a budget (CRIMINALIP_DAILY_CALL_BUDGET,
 * CRIMINALIP_MONTHLY_CALL_BUDGET; 0 sets no cap). Every HTTP call is counted before it is made,
 * both windows at once and only if neither would pass its limit, so no window ever exceeds its
 * budget however many consumers run. Automatic work (auto enrichment, webhooks, the sweep) may
 * spend a budget up to its reserved share (CRIMINALIP_RESERVED_PERCENT); manual enrichments,
 * playbook steps and the CLI may spend all of it, so automatic work can never starve an analyst.
 *
 * Calls are counted even without a cap: the `credits` command and the spend metrics read them.
 */
import { METRIC, type MetricsSink } from '../core/metrics';
import type { BudgetSettings } from '../config';
import { CriminalIpError } from '../criminalip/errors';
import type { JobOrigin } from '../jobs/types';
import type { Clock } from '../core/clock';
import type { SpendCounts, SpendPeriod, SpendStore } from './ports';

/** Who spends: analysts' requests may use the reserved share, automatic work may not. */
export type SpendClass = 'priority' | 'background';

/** The origins spend is reported by (metrics, logs). */
export type SpendOrigin = 'manual' | 'auto' | 'playbook' | 'webhook' | 'sweep' | 'cli';

export function spendOriginOf(origin: JobOrigin): SpendOrigin {
  switch (origin.kind) {
    case 'enrichment':
      return origin.mode === 'manual' ? 'manual' : 'auto';
    case 'playbook':
      return 'playbook';
    case 'webhook':
      return 'webhook';
    case 'reenrich':
      return 'sweep';
    case 'cli':
      return 'cli';
  }
}

export function spendClassOf(origin: SpendOrigin): SpendClass {
  return origin === 'manual' || origin === 'playbook' || origin === 'cli' ? 'priority' : 'background';
}

export type BudgetWindow = keyof SpendCounts;

/** The UTC month and day of `at`. */
export function spendPeriodAt(at: Date): SpendPeriod {
  const day = at.toISOString().slice(0, 10);
  return { month: day.slice(0, 7), day };
}

/** When the window containing `at` ends (the next UTC midnight, or the first of the next month). */
export function windowEnd(window: BudgetWindow, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  return window === 'day' ? new Date(Date.UTC(y, m, at.getUTCDate() + 1)) : new Date(Date.UTC(y, m + 1, 1));
}

/**
 * A Criminal IP call not made: the budget of `window` is spent for this class of request until
 * `until`. Never retried in place; the pipeline makes automatic jobs wait in the queue and
 * answers analysts at once.
 */
export class BudgetReachedError extends CriminalIpError {
  readonly kind = 'budget-reached';
  readonly retryable = false;

  constructor(
    readonly window: BudgetWindow,
    readonly budget: number,
    readonly spendClass: SpendClass,
    readonly until: Date,
    reservedPercent: number,
    now: Date,
  ) {
    const share =
      spendClass === 'background' && reservedPercent > 0
        ? `, of which ${reservedPercent}% is kept for manual and playbook requests`
        : '';
    super(
      `Criminal IP ${window === 'day' ? 'daily' : 'monthly'} budget reached until ${until.toISOString()} (${budget} calls${share}); raise CRIMINALIP_${window === 'day' ? 'DAILY' : 'MONTHLY'}_CALL_BUDGET to spend more`,
      {},
      Math.max(0, until.getTime() - now.getTime()),
    );
  }
}

/** One window as the `credits` command and the metrics show it. */
export interface WindowSpend {
  window: BudgetWindow;
  /** e.g. "2026-12-03" or "2026-12". */
  period: string;
  spent: number;
  /** 0: no cap. */
  budget: number;
  /** Calls of the budget only priority requests may spend. */
  reserved: number;
  /** What automatic work may still spend; undefined without a cap. */
  remainingBackground?: number;
  /** What an analyst's request may still spend; undefined without a cap. */
  remainingPriority?: number;
  endsAt: string;
}

export interface CallBudgetOptions {
  store: SpendStore;
  settings: BudgetSettings;
  clock: Clock;
  metrics?: MetricsSink;
}

export class CallBudget {
  constructor(private readonly options: CallBudgetOptions) {}

  private budgetOf(window: BudgetWindow): number {
    return window === 'day' ? this.options.settings.daily : this.options.settings.monthly;
  }

  /** Calls of the window's budget kept for priority requests (rounded up: the reserve is never 0 by rounding). */
  private reservedOf(window: BudgetWindow): number {
    return Math.ceil((this.budgetOf(window) * this.options.settings.reservedPercent) / 100);
  }

  /** The limit each window sets for `spendClass`; a window without a budget sets none. */
  limitsFor(spendClass: SpendClass): Partial<SpendCounts> {
    const limits: Partial<SpendCounts> = {};
    for (const window of ['day', 'month'] as const) {
      const budget = this.budgetOf(window);
      if (budget > 0) limits[window] = spendClass === 'priority' ? budget : budget - this.reservedOf(window);
    }
    return limits;
  }

  /** Counts one call for `origin`, or throws BudgetReachedError without counting it. */
  async spend(origin: SpendOrigin): Promise<void> {
    const now = this.options.clock.now();
    const spendClass = spendClassOf(origin);
    const limits = this.limitsFor(spendClass);
    if (await this.options.store.addSpend(spendPeriodAt(now), 1, limits)) {
      this.options.metrics?.count(METRIC.criminalIpCallsByOrigin, 1, { Origin: origin });
      return;
    }
    this.options.metrics?.count(METRIC.budgetRefusals, 1, { Origin: origin });
    throw (
      (await this.blocked(origin, 1)) ??
      // Spent by others between the refusal and this read: the day is the safe answer.
      this.reached('day', spendClass, now)
    );
  }

  /** The refusal a request of `origin` would get for `calls` more calls now, if any (nothing is counted). */
  async blocked(origin: SpendOrigin, calls = 1): Promise<BudgetReachedError | undefined> {
    const now = this.options.clock.now();
    const spendClass = spendClassOf(origin);
    const limits = this.limitsFor(spendClass);
    if (limits.day === undefined && limits.month === undefined) return undefined;
    const spent = await this.options.store.readSpend(spendPeriodAt(now));
    // The month first: when both are spent, the month is the longer wait.
    for (const window of ['month', 'day'] as const) {
      const limit = limits[window];
      if (limit !== undefined && spent[window] + calls > limit) return this.reached(window, spendClass, now);
    }
    return undefined;
  }

  /** Both windows now: spent, budget, reserve and what each class may still spend. */
  async status(): Promise<WindowSpend[]> {
    const now = this.options.clock.now();
    const period = spendPeriodAt(now);
    const spent = await this.options.store.readSpend(period);
    const background = this.limitsFor('background');
    const priority = this.limitsFor('priority');
    return (['day', 'month'] as const).map((window) => {
      const budget = this.budgetOf(window);
      const left = (limit: number | undefined) =>
        limit === undefined ? undefined : Math.max(0, limit - spent[window]);
      return {
        window,
        period: period[window],
        spent: spent[window],
        budget,
        reserved: budget > 0 ? this.reservedOf(window) : 0,
        ...(budget > 0
          ? { remainingBackground: left(background[window]), remainingPriority: left(priority[window]) }
          : {}),
        endsAt: windowEnd(window, now).toISOString(),
      };
    });
  }

  private reached(window: BudgetWindow, spendClass: SpendClass, now: Date): BudgetReachedError {
    return new BudgetReachedError(
      window,
      this.budgetOf(window),
      spendClass,
      windowEnd(window, now),
      this.options.settings.reservedPercent,
      now,
    );
  }
}
