/**
 * A clone is all a user has: no test, generator or script may read reference material from outside the repository
 * (the development machines lay a `../shared` folder beside it; CI on a user's fork does not).
 */
import fs from 'node:fs';
import path from 'node:path';
import { isBesideRepository, OutsideRepositoryReadError } from '../setup/stay-inside';

const ROOT = path.resolve(__dirname, '../..');
const SOURCE_DIRS = ['tests', 'lib', 'scripts', 'bench', 'bin', 'infra', 'functions'];
const SOURCE_FILE = /\.(ts|cts|mts|js|cjs|mjs)$/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return SOURCE_FILE.test(entry.name) ? [full] : [];
  });
}

const files = SOURCE_DIRS.flatMap((dir) => sourceFiles(path.join(ROOT, dir)));
const THIS_FILE = path.relative(ROOT, __filename);

/** Where `path.resolve(__dirname, 'a', 'b')` / `path.join(__dirname, ...)` with literal parts points. */
function dirnameTargets(file: string, text: string): string[] {
  const call = /path\.(?:resolve|join)\(\s*__dirname\s*,((?:\s*'[^']*'\s*,?)+)\)/g;
  return [...text.matchAll(call)].map((match) => {
    const parts = [...match[1]!.matchAll(/'([^']*)'/g)].map((part) => part[1]!);
    return path.resolve(path.dirname(file), ...parts);
  });
}

describe('the repository is self-contained', () => {
  it('scans the project sources (a scan of nothing proves nothing)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.map((file) => path.relative(ROOT, file))).toEqual(
      expect.arrayContaining(['scripts/build-countries.ts', 'lib/standins/opencti/generate-schema.ts']),
    );
  });

  it('names no folder beside the repository in any test, generator or script', () => {
    const offenders = files
      .filter((file) => path.relative(ROOT, file) !== THIS_FILE)
      .filter((file) => /(\.\.\/)+shared\/|\/work\/shared/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(ROOT, file));
    expect(offenders).toEqual([]);
  });

  it('resolves every literal path built from __dirname inside the repository', () => {
    const outside = files.flatMap((file) =>
      dirnameTargets(file, fs.readFileSync(file, 'utf8'))
        .filter((target) => target !== ROOT && !target.startsWith(ROOT + path.sep))
        .map((target) => `${path.relative(ROOT, file)} -> ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it('finds the paths it checks (the generators read the vendored reference data)', () => {
    const targets = ['scripts/build-countries.ts', 'lib/standins/opencti/generate-schema.ts'].flatMap(
      (file) => dirnameTargets(path.join(ROOT, file), fs.readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(targets.some((target) => target.includes(path.join('tests', 'fixtures', 'reference')))).toBe(true);
  });

  it('stops a test that reads beside the repository, whatever the fs call', async () => {
    const beside = path.join(path.dirname(ROOT), 'shared', 'docs', 'opencti.md');
    expect(isBesideRepository(beside)).toBe(true);
    expect(isBesideRepository(path.join(ROOT, 'package.json'))).toBe(false);
    expect(() => fs.readFileSync(beside, 'utf8')).toThrow(OutsideRepositoryReadError);
    expect(() => fs.readdirSync(path.dirname(beside))).toThrow(OutsideRepositoryReadError);
    await expect(fs.promises.readFile(beside, 'utf8')).rejects.toThrow(OutsideRepositoryReadError);
    expect(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).toContain('criminalip-opencti');
  });

  it('applies that guard to every suite', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = require('../../jest.config.js') as { setupFiles: string[] };
    expect(config.setupFiles).toContain('<rootDir>/tests/setup/stay-inside.ts');
  });
});
