/**
 * The schemas the stand-in validates and executes against: OpenCTI 6.9.17, the 7.x LTS base
 * (7.260309.0) and the latest 7.x checked (7.260817.0), each trimmed to the product's documents
 * (schema.generated.ts, produced by generate-schema.ts and checked against the full schemas by
 * tests/standins/opencti/schema*.test.ts). Built once per process and platform.
 */
import { buildSchema, type GraphQLSchema } from 'graphql';
import {
  TRIMMED_SCHEMA_SDL,
  TRIMMED_SCHEMA_SDL_7_LATEST,
  TRIMMED_SCHEMA_SDL_7_LTS,
} from './schema.generated';

/** The OpenCTI versions the stand-in can be. */
export const STAND_IN_PLATFORMS = ['6.9.17', '7.260309.0-lts.7', '7.260817.0'] as const;
export type StandInPlatform = (typeof STAND_IN_PLATFORMS)[number];

const SDL: Record<StandInPlatform, string> = {
  '6.9.17': TRIMMED_SCHEMA_SDL,
  '7.260309.0-lts.7': TRIMMED_SCHEMA_SDL_7_LTS,
  '7.260817.0': TRIMMED_SCHEMA_SDL_7_LATEST,
};

/**
 * Newer 7.x platforms (after 7.260817.0) take `version` and `slug` in RegisterConnectorInput
 * (docs/opencti-7.md §6); the stand-in can add them to its schema to play such a platform.
 */
const REGISTER_INPUT_EXTRAS =
  '\nextend input RegisterConnectorInput {\n  version: String\n  slug: String\n}\n';

const built = new Map<string, GraphQLSchema>();

export function standInSchema(
  platform: StandInPlatform = '6.9.17',
  options: { registerInputExtras?: boolean } = {},
): GraphQLSchema {
  const key = `${platform}${options.registerInputExtras ? '+extras' : ''}`;
  let schema = built.get(key);
  if (!schema) {
    schema = buildSchema(SDL[platform] + (options.registerInputExtras ? REGISTER_INPUT_EXTRAS : ''));
    built.set(key, schema);
  }
  return schema;
}

/** 7.x platforms publish `Connector.jwks` and sign the worker's callbacks. */
export function isPlatform7(platform: StandInPlatform): boolean {
  return !platform.startsWith('6.');
}
