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

describe('NodejsFunction bundling', () => {
  const bundles: Record<string, string> = {};
  const savedDocker = process.env.CDK_DOCKER;

  beforeAll(() => {
    process.env.CDK_DOCKER = path.join(tempDir('no-docker-'), 'docker-is-not-installed');
    try {
      const app = new App({ outdir: tempDir('cdk-bundle-test-'), context: cdkJsonContext() });
      const stack = new CriminalIpOpenCtiStack(app, 'BundleTest');
      const assembly = app.synth();
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Metadata?: Record<string, string> }
      >;
      for (const { name, fn } of stack.functions.all) {
        const assetPath = resources[logicalId(fn)]?.Metadata?.['aws:asset:path'];
        if (!assetPath) throw new Error(`${name} has no asset`);
        bundles[name] = path.join(assembly.directory, assetPath);
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

  it.each(['Ingest', 'Enrich', 'Schedule'])('%s bundle loads on Node 24 and exports handler()', (name) => {
    const file = path.join(bundles[name] as string, 'index.js');
    // A child process: the AWS SDK is external, as in Lambda, and resolves from node_modules.
    const result = spawnSync(
      process.execPath,
      [
        '-e',
        `const m = require(${JSON.stringify(file)}); process.exit(typeof m.handler === 'function' ? 0 : 3);`,
      ],
      {
        env: { ...process.env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
