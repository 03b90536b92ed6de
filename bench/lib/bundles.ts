/**
 * Function bundles built the way infra/ deploys them: the esbuild options aws-lambda-nodejs passes
 * for the bundling settings of infra/constructs/functions.ts (CommonJS, node24, minified, source
 * map without sources content, the AWS SDK v3 and its @smithy packages left to the runtime).
 */
import { build, type Metafile } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** `bundleAwsSDK: false` with the sdkV3ExcludeSmithyPackages flag on (cdk.json). */
export const DEPLOYED_EXTERNALS = ['@aws-sdk/*', '@smithy/*'];

export interface BuiltBundle {
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
}

export async function bundle(entry: string, outDir: string, externals: string[]): Promise<BuiltBundle> {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'index.js');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: externals,
    outfile: file,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  return {
    file,
    bytes: statSync(file).size,
    mapBytes: statSync(`${file}.map`).size,
    metafile: result.metafile,
  };
}

/** Bytes each package (or the project's own code) contributes to the output, largest first. */
export function biggestInputs(metafile: Metafile, top = 3): Array<{ name: string; bytes: number }> {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1]! : 'project code';
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
