/**
 * The import rule of docs/ARCHITECTURE.md is enforced, not just written down: dependency-cruiser,
 * with the repository's own .dependency-cruiser.cjs, refuses a service that imports the pipeline
 * and a cycle between two files, and accepts the same tree without them. (`npm run lint:deps`
 * checks the repository itself in `npm test`.)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

/** Runs the repository's rule over a small tree of files; answers the exit status and the report. */
function cruise(files: Record<string, string>): { status: number | null; report: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cip-octi-imports-'));
  try {
    copyFileSync(path.join(ROOT, '.dependency-cruiser.cjs'), path.join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    const run = spawnSync(process.execPath, [DEPCRUISE, 'lib', '--config', '.dependency-cruiser.cjs'], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { status: run.status, report: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PIPELINE = {
  'lib/pipeline/enrich.ts': "import { mapIntel } from '../mapping/map';\nexport const run = mapIntel;\n",
};

describe('the import rule', () => {
  it('accepts the pipeline importing a service', () => {
    const result = cruise({ ...PIPELINE, 'lib/mapping/map.ts': 'export const mapIntel = () => 1;\n' });
    expect(result.report).toMatch(/no dependency violations found/);
    expect(result.status).toBe(0);
  });

  it('refuses a service that imports the pipeline back', () => {
    const result = cruise({
      ...PIPELINE,
      'lib/mapping/map.ts': "import { run } from '../pipeline/enrich';\nexport const mapIntel = () => run;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.report).toMatch(
      /services-do-not-import-use-cases: lib\/mapping\/map\.ts → lib\/pipeline\/enrich\.ts/,
    );
    expect(result.report).toMatch(/no-circular/);
  });

  it('refuses the ground floor reaching up to the wiring', () => {
    const result = cruise({
      'lib/local/runtime.ts': 'export const start = () => 1;\n',
      'lib/stix/ids.ts': "import { start } from '../local/runtime';\nexport const id = start;\n",
    });
    expect(result.status).not.toBe(0);
    expect(result.report).toMatch(
      /ground-floor-imports-nothing-above: lib\/stix\/ids\.ts → lib\/local\/runtime\.ts/,
    );
  });
});
