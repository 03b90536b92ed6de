/**
 * The call budget on the real local ledger (SQLite in memory) with a clock the test moves:
 * windows, the reserved share, refusals that say until when, and the status `credits` prints.
 */
import { LocalLedger } from '../../lib/local/ledger';
import {
  BudgetReachedError,
  CallBudget,
  spendClassOf,
  spendOriginOf,
  windowEnd,
} from '../../lib/pipeline/budget';
import type { BudgetSettings } from '../../lib/config';
import { ManualClock } from '../helpers/manual-clock';

let ledger: LocalLedger;
let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-12-03T23:58:00.000Z'));
  ledger = new LocalLedger({ location: ':memory:', clock });
});
afterEach(() => ledger.close());

const budgetOf = (settings: Partial<BudgetSettings>) =>
  new CallBudget({
    store: ledger,
    settings: { daily: 0, monthly: 0, reservedPercent: 20, alarmPercent: 80, ...settings },
    clock,
  });

async function spendUntilRefused(budget: CallBudget, origin: Parameters<CallBudget['spend']>[0]) {
  let spent = 0;
  for (;;) {
    try {
      await budget.spend(origin);
      spent += 1;
    } catch (error) {
      return { spent, error: error as BudgetReachedError };
    }
    if (spent > 1000) throw new Error('no refusal');
  }
}

describe('CallBudget', () => {
  it('lets automatic work spend up to the reserve, and analysts the rest', async () => {
    const budget = budgetOf({ daily: 10, reservedPercent: 20 });
    const auto = await spendUntilRefused(budget, 'auto');
    expect(auto.spent).toBe(8);
    expect(auto.error).toBeInstanceOf(BudgetReachedError);
    expect(auto.error).toMatchObject({
      window: 'day',
      budget: 10,
      spendClass: 'background',
      retryable: false,
    });
    expect(auto.error.until.toISOString()).toBe('2026-12-04T00:00:00.000Z');
    expect(auto.error.message).toBe(
      'Criminal IP daily budget reached until 2026-12-04T00:00:00.000Z (10 calls, of which 20% is kept for manual and playbook requests); raise CRIMINALIP_DAILY_CALL_BUDGET to spend more',
    );
    // The sweep and webhooks are automatic work too; manual, playbook and CLI requests are not.
    await expect(budget.spend('sweep')).rejects.toThrow(BudgetReachedError);
    await expect(budget.spend('webhook')).rejects.toThrow(BudgetReachedError);
    const manual = await spendUntilRefused(budget, 'manual');
    expect(manual.spent).toBe(2);
    expect(manual.error).toMatchObject({ window: 'day', spendClass: 'priority' });
    await expect(budget.spend('playbook')).rejects.toThrow(BudgetReachedError);
    expect(await ledger.readSpend({ month: '2026-12', day: '2026-12-03' })).toEqual({ day: 10, month: 10 });
  });

  it('opens again when the window turns', async () => {
    const budget = budgetOf({ daily: 2, reservedPercent: 0 });
    expect((await spendUntilRefused(budget, 'auto')).spent).toBe(2);
    expect(await budget.blocked('auto')).toBeInstanceOf(BudgetReachedError);
    clock.advance(120); // 2026-12-04T00:00
    expect(await budget.blocked('auto')).toBeUndefined();
    await budget.spend('auto');
  });

  it('says the month when the monthly budget is what stops the request', async () => {
    const budget = budgetOf({ daily: 100, monthly: 5, reservedPercent: 0 });
    const run = await spendUntilRefused(budget, 'manual');
    expect(run.spent).toBe(5);
    expect(run.error).toMatchObject({ window: 'month', budget: 5 });
    expect(run.error.until.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(run.error.message).toMatch(/monthly budget reached .*CRIMINALIP_MONTHLY_CALL_BUDGET/);
    // A new day does not help: the month is spent.
    clock.advance(120);
    await expect(budget.spend('manual')).rejects.toMatchObject({ window: 'month' });
  });

  it('keeps at least one call in reserve when the share rounds below one', async () => {
    expect(budgetOf({ daily: 3, reservedPercent: 20 }).limitsFor('background')).toEqual({ day: 2 });
    expect(budgetOf({ daily: 3, reservedPercent: 0 }).limitsFor('background')).toEqual({ day: 3 });
    expect(budgetOf({ daily: 3, reservedPercent: 100 }).limitsFor('background')).toEqual({ day: 0 });
  });

  it('counts calls without a cap and never refuses them', async () => {
    const budget = budgetOf({});
    for (let i = 0; i < 50; i += 1) await budget.spend('auto');
    expect(await budget.blocked('auto')).toBeUndefined();
    expect(await budget.status()).toEqual([
      {
        window: 'day',
        period: '2026-12-03',
        spent: 50,
        budget: 0,
        reserved: 0,
        endsAt: '2026-12-04T00:00:00.000Z',
      },
      {
        window: 'month',
        period: '2026-12',
        spent: 50,
        budget: 0,
        reserved: 0,
        endsAt: '2027-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('reports spent, reserved and what each class may still spend', async () => {
    const budget = budgetOf({ daily: 10, monthly: 200, reservedPercent: 30 });
    for (let i = 0; i < 4; i += 1) await budget.spend('auto');
    expect(await budget.status()).toEqual([
      expect.objectContaining({
        window: 'day',
        spent: 4,
        budget: 10,
        reserved: 3,
        remainingBackground: 3,
        remainingPriority: 6,
      }),
      expect.objectContaining({
        window: 'month',
        spent: 4,
        budget: 200,
        reserved: 60,
        remainingBackground: 136,
        remainingPriority: 196,
      }),
    ]);
  });
});

describe('who spends', () => {
  it('puts manual enrichments, playbook steps and the CLI before automatic work', () => {
    const cases = [
      [{ kind: 'enrichment', workId: 'w', mode: 'manual' }, 'manual', 'priority'],
      [{ kind: 'enrichment', workId: 'w', mode: 'auto' }, 'auto', 'background'],
      [{ kind: 'webhook', source: 'notifier' }, 'webhook', 'background'],
      [{ kind: 'reenrich' }, 'sweep', 'background'],
      [{ kind: 'cli' }, 'cli', 'priority'],
    ] as const;
    for (const [origin, name, spendClass] of cases) {
      expect(spendOriginOf(origin)).toBe(name);
      expect(spendClassOf(name)).toBe(spendClass);
    }
  });

  it('ends days at UTC midnight and months on the first', () => {
    const at = new Date('2028-02-29T12:00:00.000Z');
    expect(windowEnd('day', at).toISOString()).toBe('2028-03-01T00:00:00.000Z');
    expect(windowEnd('month', at).toISOString()).toBe('2028-03-01T00:00:00.000Z');
    expect(windowEnd('month', new Date('2026-12-31T23:59:59.999Z')).toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
  });
});
