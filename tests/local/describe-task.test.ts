/** The one line `npm start` and the CLI print for a schedule task. */
import { describeTask } from '../../lib/local/runtime';

describe('describeTask', () => {
  it('says what the sweep left out and why', () => {
    expect(
      describeTask({
        task: 'reenrich',
        found: 12,
        queued: 2,
        invalid: 1,
        notOurs: 9,
        budget: 100,
        callBudgetRoom: 2,
      }),
    ).toBe(
      'Re-enrichment sweep done: 12 stale observable(s) found, 2 queued, 1 with values that cannot be enriched, ' +
        '9 never enriched by this connector (REENRICH_SCOPE=own) (budget 100, 2 left by the Criminal IP call budget)',
    );
    expect(describeTask({ task: 'reenrich', found: 2, queued: 2, invalid: 0, budget: 100 })).toBe(
      'Re-enrichment sweep done: 2 stale observable(s) found, 2 queued (budget 100)',
    );
  });
});
