/**
 * Regenerates lib/mapping/data/countries.json from OpenCTI's geography dataset.
 *
 * OpenCTI computes a Country's id from its exact name, so the mapping must name countries exactly as
 * the platform's built-in ones ("United States of America", not "United States" or "US"). The
 * product ships this compact table instead of reading the full bundle at run time.
 *
 * Usage: npx tsx scripts/build-countries.ts [path/to/geography.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface GeographyObject {
  type?: string;
  name?: string;
  x_opencti_location_type?: string;
  x_opencti_aliases?: string[];
}

const source =
  process.argv[2] ?? path.resolve(__dirname, '../tests/fixtures/reference/opencti/geography.json');
const target = path.resolve(__dirname, '../lib/mapping/data/countries.json');

const bundle = JSON.parse(readFileSync(source, 'utf8')) as { objects?: GeographyObject[] };
const countries = (bundle.objects ?? [])
  .filter((o) => o.type === 'location' && o.x_opencti_location_type === 'Country' && o.name)
  .map((o) => ({ name: o.name as string, aliases: o.x_opencti_aliases ?? [] }))
  .sort((a, b) => a.name.localeCompare(b.name, 'en'));

if (countries.length < 200) throw new Error(`${source} holds only ${countries.length} countries`);
// One country per line: small, diffable, and already in Prettier's layout.
const lines = countries.map(
  (c) =>
    `  { "name": ${JSON.stringify(c.name)}, "aliases": [${c.aliases.map((a) => JSON.stringify(a)).join(', ')}] }`,
);
writeFileSync(target, `[\n${lines.join(',\n')}\n]\n`);
console.log(`wrote ${countries.length} countries to ${path.relative(process.cwd(), target)}`);
