/**
 * The README's .env example and its configuration table must name every variable the product
 * reads, and only those: both are checked against what the configuration loaders actually read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { demoPlatform } from '../../lib/local/demo';
import { loadLocalSettings } from '../../lib/local/runtime';
import { offlineVersion } from '../../lib/opencti/platform-version';

const README = path.resolve(__dirname, '../../README.md');

/** An environment that remembers every variable asked for, and holds none. */
function recordingEnv(): { env: Record<string, string | undefined>; names: Set<string> } {
  const names = new Set<string>();
  const env = new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key === 'string') names.add(key);
        return undefined;
      },
    },
  );
  return { env, names };
}

/** The lines of the README from `start` (a line matching it) to the next line matching `end`. */
function section(start: RegExp, end: RegExp): string[] {
  const lines = readFileSync(README, 'utf8').split('\n');
  const from = lines.findIndex((line) => start.test(line));
  if (from < 0) throw new Error(`README has no line matching ${start}`);
  const to = lines.findIndex((line, i) => i > from && end.test(line));
  return lines.slice(from, to < 0 ? undefined : to);
}

/** Variables set in the README's .env example (the block that starts with `# Required`). */
function exampleVariables(): Set<string> {
  const lines = section(/^\s*# Required$/, /^\s*```/);
  return new Set(lines.flatMap((line) => /^\s*([A-Z][A-Z0-9_]+)=/.exec(line)?.[1] ?? []));
}

/** Variables in the first column of the README's configuration table. */
function tableVariables(): Set<string> {
  const lines = section(/^## Configuration$/, /^## /);
  return new Set(lines.flatMap((line) => /^\| `([A-Z][A-Z0-9_]+)` \|/.exec(line)?.[1] ?? []));
}

it('lists every variable the local runtime reads in the .env example', () => {
  const { env, names } = recordingEnv();
  loadConfig(env, { criminalIp: false, opencti: false });
  loadLocalSettings(env);
  expect([...exampleVariables()].sort()).toEqual([...names].sort());
});

it('documents every variable the product reads in the configuration table', () => {
  const { env, names } = recordingEnv();
  loadConfig(env, { criminalIp: false, opencti: false });
  loadLocalSettings(env);
  // Read only where no OpenCTI is connected: the demo's platform and the dry-run's id rules.
  demoPlatform(env);
  offlineVersion(env);
  expect([...tableVariables()].sort()).toEqual([...names].sort());
});
