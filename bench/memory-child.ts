/**
 * Runs in a fresh process, bundled like a function (bench/memory.ts): loads the mapping and STIX
 * modules and, unless it is the baseline, takes a batch of Criminal IP report bodies through what
 * the pipeline does with them (parse, map, assemble, serialise, wrap in the GraphQL request),
 * keeping the results of up to `window` reports alive at once. Prints its peak RSS as JSON.
 *
 *   node memory-child.js baseline
 *   node memory-child.js batch <window> <report.json>...
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../lib/config';
import { mapIntel } from '../lib/mapping';
import { BundleBuilder } from '../lib/stix';

const [mode, windowArg, ...files] = process.argv.slice(2);
const settings = loadConfig({}, { criminalIp: false, opencti: false }).mapping;

function enrich(file: string): unknown[] {
  const body = readFileSync(file, 'utf8');
  const report = JSON.parse(body) as { ip: string };
  const result = mapIntel({
    observable: { type: 'ipv4-addr', value: report.ip, markingRefs: [] },
    intel: { kind: 'ip', report },
    settings,
    markingRefs: [],
    now: new Date(),
  });
  const bundle = new BundleBuilder().add(...result.objects).build();
  const text = JSON.stringify(bundle);
  // pushBundle sends the bundle as a string variable: one more copy, escaped.
  const request = JSON.stringify({ query: 'mutation StixBundlePush', variables: { bundle: text } });
  return [body, report, result, bundle, text, request];
}

if (mode === 'batch') {
  const window = Number(windowArg);
  const alive: unknown[][] = [];
  for (const file of files) {
    alive.push(enrich(file));
    if (alive.length > window) alive.shift();
  }
}
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ maxRssBytes: usage.maxRSS * 1024, heapUsedBytes: process.memoryUsage().heapUsed })}\n`,
);
