/**
 * TLP marking definitions as OpenCTI stores them (static standard ids, docs/opencti.md §14), for
 * seeding the stand-in's markings and observables.
 */
import type { StandInMarking } from './model';

const TLP_IDS = {
  'TLP:CLEAR': 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  'TLP:GREEN': 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  'TLP:AMBER': 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  'TLP:AMBER+STRICT': 'marking-definition--826578e1-40ad-459f-bc73-ede076f81f37',
  'TLP:RED': 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;

export type StandInTlp = keyof typeof TLP_IDS;

export function tlpMarking(level: StandInTlp): StandInMarking {
  return { standard_id: TLP_IDS[level], definition_type: 'TLP', definition: level };
}
