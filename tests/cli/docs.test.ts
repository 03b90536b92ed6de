/**
 * docs/local.md's .env example must name every variable the product reads locally, and only those:
 * the list is checked against what the configuration loaders actually read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { loadLocalSettings } from '../../lib/local/runtime';

const DOC = path.resolve(__dirname, '../../docs/local.md');

/** An environment that remembers every variable asked for, and holds none. */
function recordingEnv(): { env: Record<string, string | undefined>; names: Set<string> } {
  const names = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, key) {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  return { env, names };
}

/** Variables set in the doc's .env example: lines of the form `NAME=value`. */
function exampleVariables(): Set<string> {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  return new Set(lines.flatMap((line) => /^\s*([A-Z][A-Z0-9_]+)=/.exec(line)?.[1] ?? []));
}

it('lists every variable the local runtime reads in the .env example', () => {
  const { env, names } = recordingEnv();
  loadConfig(env, { criminalIp: false, opencti: false });
  loadLocalSettings(env);
  expect([...exampleVariables()].sort()).toEqual([...names].sort());
});
