import {
  apiStatusOf,
  asBoolean,
  asInteger,
  asNumber,
  cipTime,
  listOf,
  recordsOf,
  scanIdOf,
  scanPercentageOf,
  scorePercent,
  scoreWord,
} from '../../lib/criminalip';

describe('tolerant readers', () => {
  it.each([
    ['Critical', 'critical'],
    ['critical', 'critical'],
    [' LOW ', 'low'],
    ['Moderate', 'moderate'],
    ['20% (Safe)', 'safe'],
    ['80% (Dangerous)', 'dangerous'],
    ['99%(Critical)', 'critical'],
    [5, 'critical'],
    [1, 'safe'],
    [0, undefined],
    ['unknown', undefined],
    ['', undefined],
    [null, undefined],
    [{ score: 'low' }, undefined],
  ])('scoreWord(%p) → %p', (input, expected) => {
    expect(scoreWord(input)).toBe(expected);
  });

  it.each([
    ['20% (Safe)', 20],
    ['99.5% (Critical)', 99.5],
    [40, 40],
    [140, undefined],
    ['Safe', undefined],
  ])('scorePercent(%p) → %p', (input, expected) => {
    expect(scorePercent(input)).toBe(expected);
  });

  it('reads as_no whether number, string or "AS"-prefixed', () => {
    expect(asInteger(8075)).toBe(8075);
    expect(asInteger('15169')).toBe(15169);
    expect(asInteger('AS13335')).toBe(13335);
    expect(asInteger(null)).toBeUndefined();
    expect(asInteger('n/a')).toBeUndefined();
    expect(asInteger(1.5)).toBeUndefined();
    expect(asNumber(' 9.4 ')).toBe(9.4);
  });

  it('reads booleans as the API writes them', () => {
    expect(asBoolean('True')).toBe(true);
    expect(asBoolean(false)).toBe(false);
    expect(asBoolean(1)).toBe(true);
    expect(asBoolean('maybe')).toBeUndefined();
  });

  it('reads API timestamps as UTC', () => {
    expect(cipTime('2025-08-10 09:00:00')?.toISOString()).toBe('2025-08-10T09:00:00.000Z');
    expect(cipTime('2023-06-15')?.toISOString()).toBe('2023-06-15T00:00:00.000Z');
    expect(cipTime('2025-01-01T00:00:00Z')?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(cipTime('2025-01-01T02:00:00+02:00')?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(cipTime('yesterday')).toBeUndefined();
    expect(cipTime(20250101)).toBeUndefined();
  });

  it('reads list sections in every shape without crashing', () => {
    expect(listOf({ count: 2, data: [1, 2] })).toEqual([1, 2]);
    expect(listOf([3])).toEqual([3]);
    expect(listOf({ count: 0 })).toEqual([]);
    expect(listOf('nope')).toEqual([]);
    expect(recordsOf({ data: [{ a: 1 }, null, 'x', [1]] })).toEqual([{ a: 1 }]);
  });

  it('reads envelope fields from wrapped and unwrapped bodies', () => {
    expect(apiStatusOf({ status: 200 })).toBe(200);
    expect(apiStatusOf({ status: '403' })).toBe(403);
    expect(apiStatusOf([])).toBeUndefined();
    expect(scanIdOf({ data: { scan_id: 14341560 } })).toBe('14341560');
    expect(scanIdOf({ data: { scan_id: '25436128' } })).toBe('25436128');
    expect(scanIdOf({ data: {} })).toBeUndefined();
    expect(scanPercentageOf({ data: { scan_percentage: -2 } })).toBe(-2);
    expect(scanPercentageOf({ data: null })).toBeUndefined();
  });
});
