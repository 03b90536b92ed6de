/** The stand-in's 7.x schemas (LTS base and latest 7.x), trimmed like the 6.9.17 one. */
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { documentsFor } from '../../../lib/opencti/documents';
import {
  generateTrimmedSchema7,
  SCHEMAS_7,
  schema7Path,
} from '../../../lib/standins/opencti/generate-schema';
import * as generated from '../../../lib/standins/opencti/schema.generated';
import { standInSchema, type StandInPlatform } from '../../../lib/standins/opencti/schema';

const PLATFORM_OF: Record<string, StandInPlatform> = {
  '7.260309.0-lts': '7.260309.0-lts.7',
  '7.260817.0': '7.260817.0',
};

describe.each(SCHEMAS_7.map((s) => [s.version, s] as const))('stand-in schema %s (trimmed)', (version, s) => {
  const full = readFileSync(schema7Path(s.file), 'utf8');

  it('is up to date with lib/opencti/documents.ts (else run generate-schema.ts)', () => {
    expect((generated as Record<string, string>)[s.constant]).toBe(generateTrimmedSchema7(full, version));
  });

  it('validates every document a 7.x platform receives, as the full schema does', () => {
    const trimmed = standInSchema(PLATFORM_OF[version]);
    const fullSchema = buildSchema(full);
    for (const doc of documentsFor('7.x')) {
      const ast = parse(doc.query);
      expect([doc.operationName, validate(trimmed, ast).map((e) => e.message)]).toEqual([
        doc.operationName,
        [],
      ]);
      expect([doc.operationName, validate(fullSchema, ast).map((e) => e.message)]).toEqual([
        doc.operationName,
        [],
      ]);
    }
  });

  it('has Connector.jwks, which 6.9.17 lacks', () => {
    const connector = standInSchema(PLATFORM_OF[version]).getType('Connector');
    expect(connector && 'getFields' in connector && 'jwks' in connector.getFields()).toBe(true);
    const old = standInSchema('6.9.17').getType('Connector');
    expect(old && 'getFields' in old && 'jwks' in old.getFields()).toBe(false);
  });
});
