/**
 * `criminalip-opencti` started by an older system Node (CI's is 20) hands over to the Node 24 the
 * project installs, so the command works whichever `node` is first on the PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/criminalip-opencti.cjs');

/** A `node` on the PATH that is not the project's own, with its version. */
function systemNode(): { file: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir.includes('node_modules')) continue;
    const file = path.join(dir, 'node');
    if (!existsSync(file)) continue;
    return { file, version: execFileSync(file, ['--version'], { encoding: 'utf8' }).trim() };
  }
  return undefined;
}

const other = systemNode();
const older = other && Number(other.version.slice(1).split('.')[0]) < 24 ? other : undefined;

(older ? it : it.skip)(`runs the CLI on Node 24 when started by ${older?.version ?? 'an older Node'}`, () => {
  const run = spawnSync(older!.file, [BIN, 'enrich', '10.0.0.1', '--dry-run'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: path.dirname(older!.file), HOME: process.env.HOME ?? '/tmp' },
  });
  // The private address is refused by the product's own check: proof that the TypeScript CLI ran.
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/refused before any call: private IPv4 address/);
  expect(run.stderr).not.toMatch(/ERR_UNKNOWN_BUILTIN_MODULE|needs Node\.js 24/);
});
