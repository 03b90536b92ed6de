/**
 * Countries and cities. Countries are always OpenCTI's built-in ones (exact name, ISO3/ISO2
 * aliases) so that their ids match the platform's; a code the table does not know gives no
 * Country and a warning, never a Country named by its code.
 */
import { city, country } from '../stix';
import { findCountry } from './countries';
import type { Graph } from './graph';

/** Adds the Country for a code (ISO2/ISO3, any case); answers its id. */
export function addCountry(graph: Graph, code: string | undefined): string | undefined {
  if (!code) return undefined;
  const entry = findCountry(code);
  if (!entry) {
    graph.warn(`unknown country code "${code.slice(0, 20)}": no Country created`);
    return undefined;
  }
  return graph.addOnce(
    `country ${entry.name}`,
    () => country({ name: entry.name, aliases: entry.aliases }, graph.sharedSdo()),
    'shared',
  );
}

function coordinate(value: number | undefined, limit: number): number | undefined {
  return value !== undefined && Math.abs(value) <= limit ? value : undefined;
}

/**
 * Adds a City (with its coordinates when valid) located-at its Country. A STIX location needs
 * coordinates or a country code, so a city with neither is left out.
 */
export function addCity(
  graph: Graph,
  name: string | undefined,
  countryCode: string | undefined,
  latitude: number | undefined,
  longitude: number | undefined,
): string | undefined {
  if (!name || name.length > 100) return undefined;
  const entry = countryCode ? findCountry(countryCode) : undefined;
  const lat = coordinate(latitude, 90);
  const lon = coordinate(longitude, 180);
  const hasPosition = lat !== undefined && lon !== undefined && !(lat === 0 && lon === 0);
  if (!hasPosition && !entry) return undefined;
  const cityId = graph.add(
    `city ${name}`,
    () =>
      city(
        {
          name,
          ...(hasPosition ? { latitude: lat, longitude: lon } : {}),
          ...(entry ? { country: entry.iso2 } : {}),
        },
        graph.sharedSdo(),
      ),
    'shared',
  );
  graph.relate('located-at', cityId, addCountry(graph, countryCode));
  return cityId;
}
