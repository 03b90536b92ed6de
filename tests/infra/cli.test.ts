/**
 * The app entry point exactly as cdk.json runs it (`node bin/run-ts.cjs infra/app.ts`), with the
 * context the CDK CLI would pass (CDK_CONTEXT_JSON): a bad value is one line and exit code 1.
 * A valid synth through this entry point is `npm run synth` (CI); nag.test.ts covers the same app
 * in-process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cdkJsonContext, NO_BUNDLING, PROJECT_ROOT, removeTempDirs, tempDir } from './support';

afterAll(removeTempDirs);

function runApp(context: Record<string, unknown>) {
  const outdir = tempDir('cdk-app-test-');
  const command = (
    JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string }
  ).app;
  const [, ...args] = command.split(' ');
  const result = spawnSync(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...NO_BUNDLING, ...context }),
      CDK_OUTDIR: outdir,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...result, outdir };
}

describe('infra/app.ts', () => {
  it('runs with node and tsx, as cdk.json says', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
      app: string;
    };
    expect(cdkJson.app).toBe('node bin/run-ts.cjs infra/app.ts');
  });

  it('ends with one line naming the context key when a value is invalid', () => {
    const result = runApp({ maxConcurrency: '1' });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      'Invalid stack configuration: maxConcurrency must be an integer from 2 to 1000 (got "1") ' +
        '(set it in the cdk.json context or with -c maxConcurrency=...)',
    ]);
    expect(fs.existsSync(path.join(result.outdir, 'manifest.json'))).toBe(false);
  });
});
