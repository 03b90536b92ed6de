/**
 * The functions are bundled by the local esbuild, never by Docker: with the Docker command
 * pointing nowhere, synth still produces a loadable CommonJS bundle per function.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CriminalIpOpenCtiStack } from '../../infra/stack';
import { cdkJsonContext, logicalId, PROJECT_ROOT, removeTempDirs, tempDir } from './support';

afterAll(removeTempDirs);

/** Not the cdk.json examples, so synth prints no placeholder warning. */
const REAL_SETTINGS = {
  openctiUrl: 'https://cti.acme.test',
  connectorId: '7d4c5a3e-9a51-4a53-8e43-2f5b4b1c0c11',
};

describe('NodejsFunction bundling', () => {
  const bundles: Record<string, string> = {};
  const savedDocker = process.env.CDK_DOCKER;

  beforeAll(() => {
    process.env.CDK_DOCKER = path.join(tempDir('no-docker-'), 'docker-is-not-installed');
    try {
      const app = new App({ outdir: tempDir('cdk-bundle-test-'), context: cdkJsonContext() });
      const stack = new CriminalIpOpenCtiStack(app, 'BundleTest', { settings: REAL_SETTINGS });
      const assembly = app.synth();
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Properties: { Code: { S3Key: string } } }
      >;
      for (const { name, fn } of stack.functions.all) {
        // The asset's S3 key is `<hash>.zip`; the bundle sits in the assembly's `asset.<hash>`.
        const key = resources[logicalId(fn)]?.Properties.Code.S3Key ?? '';
        bundles[name] = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      }
    } finally {
      if (savedDocker === undefined) delete process.env.CDK_DOCKER;
      else process.env.CDK_DOCKER = savedDocker;
    }
  });

  it.each(['Ingest', 'Enrich', 'Schedule'])('bundles %s into index.js with its source map', (name) => {
    const dir = bundles[name] as string;
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    // CommonJS output: no ESM syntax and no createRequire banner.
    expect(code).toContain('module.exports');
    expect(code).not.toMatch(/^import /m);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  });

  it('bundles that load on Node 24 and export handler()', () => {
    // A child process, where the AWS SDK stays external as in Lambda and resolves from node_modules.
    const check = `for (const f of ${JSON.stringify(Object.values(bundles).map((d) => path.join(d, 'index.js')))}) {
      if (typeof require(f).handler !== 'function') { console.error(f + ' exports no handler'); process.exit(3); }
    }`;
    const result = spawnSync(process.execPath, ['-e', check], {
      env: { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
