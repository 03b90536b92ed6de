/**
 * Runs the mapping of one bench case in a loop, to profile it:
 *
 *   node --cpu-prof --cpu-prof-dir=.tmp/prof bin/run-ts.cjs bench/profile-mapping.ts [case] [seconds]
 *
 * `case` is a number or part of a case name from section 1 (default: the first); the profile opens
 * in Chrome DevTools (Performance tab) or any .cpuprofile viewer.
 */
import { performance } from 'node:perf_hooks';
import { mapParsed, mappingCases } from './mapping';

const [which = '0', secondsArg = '5'] = process.argv.slice(2);
const cases = mappingCases();
const chosen = /^\d+$/.test(which) ? cases[Number(which)] : cases.find((c) => c.name.includes(which));
if (!chosen) {
  console.error(`No case ${which}; the cases are:\n${cases.map((c, i) => `  ${i} ${c.name}`).join('\n')}`);
  process.exit(2);
}
const parsed: unknown = JSON.parse(chosen.body);
const until = performance.now() + Number(secondsArg) * 1000;
const cpu = process.cpuUsage();
let runs = 0;
while (performance.now() < until) {
  mapParsed(chosen, parsed);
  runs += 1;
}
const used = process.cpuUsage(cpu);
console.log(
  `${chosen.name}: ${runs} mappings, ${((Number(secondsArg) * 1000) / runs).toFixed(3)} ms each ` +
    `(${((used.user + used.system) / 1000 / runs).toFixed(3)} ms CPU)`,
);
