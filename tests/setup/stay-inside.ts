/**
 * Fail closed on reference data from outside the repository: a clone must pass its tests alone, so a test that reads a
 * folder beside the project (such as a `../shared` of reading material) throws at once instead of passing only on
 * machines that happen to lay that folder out.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const PARENT = path.dirname(ROOT);

export class OutsideRepositoryReadError extends Error {
  constructor(readonly target: string) {
    super(
      `Test tried to read ${target}, beside the repository: copy what tests need under tests/fixtures/reference/`,
    );
    this.name = 'OutsideRepositoryReadError';
  }
}

/** A path inside the repository's parent folder but not inside the repository: a sibling's file. */
export function isBesideRepository(target: unknown): boolean {
  if (typeof target !== 'string' && !(target instanceof URL)) return false;
  const file = path.resolve(target instanceof URL ? target.pathname : target);
  const inside = (dir: string) => file === dir || file.startsWith(dir + path.sep);
  return inside(PARENT) && !inside(ROOT) && file !== PARENT;
}

type AnyFunction = (...args: unknown[]) => unknown;

function guard(owner: object, name: string, failure: 'throw' | 'reject'): void {
  const original = (owner as Record<string, AnyFunction>)[name];
  if (typeof original !== 'function') return;
  (owner as Record<string, AnyFunction>)[name] = function guarded(this: unknown, ...args: unknown[]) {
    if (isBesideRepository(args[0])) {
      const error = new OutsideRepositoryReadError(String(args[0]));
      if (failure === 'reject') return Promise.reject(error);
      throw error;
    }
    return original.apply(this, args);
  };
}

for (const name of [
  'readFileSync',
  'readFile',
  'openSync',
  'open',
  'readdirSync',
  'readdir',
  'createReadStream',
]) {
  guard(fs, name, 'throw');
}
for (const name of ['readFile', 'open', 'readdir']) guard(fs.promises, name, 'reject');
