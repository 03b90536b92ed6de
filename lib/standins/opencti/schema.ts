/**
 * The schema the stand-in validates and executes against: OpenCTI 6.9.17 trimmed to the
 * product's documents (schema.generated.ts, produced by generate-schema.ts and checked against
 * the full schema by tests/standins/opencti/schema.test.ts). Built once per process.
 */
import { buildSchema, type GraphQLSchema } from 'graphql';
import { TRIMMED_SCHEMA_SDL } from './schema.generated';

let schema: GraphQLSchema | undefined;

export function standInSchema(): GraphQLSchema {
  schema ??= buildSchema(TRIMMED_SCHEMA_SDL);
  return schema;
}
