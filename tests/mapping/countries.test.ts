/**
 * The product's country table must name every country exactly as OpenCTI's geography dataset
 * does, or the Country objects it emits would duplicate the platform's own.
 */
import table from '../../lib/mapping/data/countries.json';
import { findCountry } from '../../lib/mapping/countries';
import { GEOGRAPHY, ids, readJson, run } from './support';

interface GeographyObject {
  type: string;
  name?: string;
  x_opencti_location_type?: string;
  x_opencti_aliases?: string[];
}

const geography = (readJson(GEOGRAPHY) as { objects: GeographyObject[] }).objects.filter(
  (o) => o.type === 'location' && o.x_opencti_location_type === 'Country',
);

describe('country table', () => {
  it('holds every country of the geography dataset, with its exact name and aliases', () => {
    const expected = geography
      .map((c) => ({ name: c.name, aliases: c.x_opencti_aliases }))
      .sort((a, b) => a.name!.localeCompare(b.name!));
    const actual = [...table].sort((a, b) => a.name.localeCompare(b.name));
    expect(actual).toEqual(expected);
    expect(actual).toHaveLength(250);
  });

  it.each([
    ['us', 'United States of America'],
    ['USA', 'United States of America'],
    ['kr', 'Republic of Korea'],
    ['KOR', 'Republic of Korea'],
    ['gb', 'United Kingdom of Great Britain and Northern Ireland'],
    ['UK', 'United Kingdom of Great Britain and Northern Ireland'],
    ['TW', 'Taiwan'],
    [' ru ', 'Russian Federation'],
    ['France', 'France'],
  ])('finds %s as %s', (code, name) => {
    expect(findCountry(code)?.name).toBe(name);
  });

  it.each(['', 'EU', 'ZZ', 'United States', 'A1'])('finds nothing for %j', (code) => {
    expect(findCountry(code)).toBeUndefined();
  });

  it('gives Country objects the ids OpenCTI gives its own countries (docs/opencti.md §11.4)', () => {
    const result = run(
      { type: 'ipv4-addr', value: '192.0.2.1' },
      {
        kind: 'ip',
        report: { ip: '192.0.2.1' },
        suspiciousInfo: { ip: '192.0.2.1', whois: { data: [{ org_country_code: 'kr' }] } },
      },
    );
    expect(result.objects.find((o) => o.type === 'location')).toMatchObject({
      id: 'location--26a13f85-4350-5792-8743-347a8c7960e6',
      name: 'Republic of Korea',
      x_opencti_aliases: ['KOR', 'KR'],
    });
    expect(ids.country('France')).toBe('location--b8d0549f-de06-5ebd-a6e9-d31a581dba5d');
  });
});
