import fs from 'node:fs';
import path from 'node:path';
import type { ObservableEntityType } from '../../lib/config';

const FIXTURES = path.resolve(__dirname, '../fixtures/jobs');

/** Parsed fixture JSON. Tests reach deep into it and change it, so it is left untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fixture = any;

/** A fresh copy of a fixture, parsed: tests may change it freely. */
export function fixture(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
}

export const ALL_TYPES: ObservableEntityType[] = ['IPv4-Addr', 'IPv6-Addr', 'Domain-Name', 'Hostname', 'Url'];
export const NOW = new Date('2026-02-10T10:06:01.000Z');

export const TLP = {
  clear: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};
