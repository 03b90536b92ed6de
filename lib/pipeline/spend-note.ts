/**
 * What an enrichment cost and what is left, at the end of its OpenCTI work message, so that the
 * analyst who pressed the button sees the spend: "1 Criminal IP call; today 12 of 100 calls,
 * this month 340 of 3000; 4321 credits left at 13:40 UTC".
 */
import type { CallBudget, WindowSpend } from './budget';
import type { CreditsStore } from './ports';

function windowText(w: WindowSpend): string {
  const name = w.window === 'day' ? 'today' : 'this month';
  return w.budget > 0 ? `${name} ${w.spent} of ${w.budget} calls` : `${name} ${w.spent} calls`;
}

/** The note, or '' when nothing can be said (no budget, no credits read yet, a ledger error). */
export async function spendNote(
  calls: number,
  budget: CallBudget | undefined,
  credits: Partial<CreditsStore>,
): Promise<string> {
  const parts = [`${calls} Criminal IP call${calls === 1 ? '' : 's'}`];
  try {
    const windows = (await budget?.status()) ?? [];
    if (windows.length > 0) parts.push(windows.map(windowText).join(', '));
    const account = await credits.getCredits?.();
    if (account) parts.push(`${account.credits} credits left at ${account.checkedAt.slice(11, 16)} UTC`);
  } catch {
    // The note is a courtesy: the enrichment is reported without it.
  }
  return parts.join('; ');
}
