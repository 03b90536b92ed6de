import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  parse,
  validate,
  type GraphQLField,
} from 'graphql';
import { documentsFor } from '../../../lib/opencti/documents';
import { generateTrimmedSchema } from '../../../lib/standins/opencti/generate-schema';
import { TRIMMED_SCHEMA_SDL } from '../../../lib/standins/opencti/schema.generated';
import { standInSchema } from '../../../lib/standins/opencti/schema';
import { trimSchema } from '../../../lib/standins/opencti/trim-schema';

const FULL_SDL = readFileSync(
  path.resolve(__dirname, '../../fixtures/reference/opencti/opencti-6.9.17.schema.graphql'),
  'utf8',
);
const full = buildSchema(FULL_SDL);

function signature(field: GraphQLField<unknown, unknown>): string {
  return `${field.args.map((a) => `${a.name}: ${String(a.type)}`).join(', ')} -> ${String(field.type)}`;
}

describe('stand-in schema (trimmed)', () => {
  it('is up to date with lib/opencti/documents.ts (else run generate-schema.ts)', () => {
    expect(TRIMMED_SCHEMA_SDL).toBe(generateTrimmedSchema(FULL_SDL));
  });

  it('is far smaller than the full schema', () => {
    expect(TRIMMED_SCHEMA_SDL.length).toBeLessThan(FULL_SDL.length / 10);
  });

  it('validates every product document a 6.9 platform receives, as the full schema does', () => {
    for (const doc of documentsFor('6.9')) {
      const ast = parse(doc.query);
      expect({ op: doc.operationName, errors: validate(standInSchema(), ast).map((e) => e.message) }).toEqual(
        {
          op: doc.operationName,
          errors: [],
        },
      );
    }
  });

  it('keeps every type, field and argument exactly as the full schema has them', () => {
    const trimmed = standInSchema();
    for (const type of Object.values(trimmed.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const original = full.getType(type.name);
      expect(original?.constructor).toBe(type.constructor);
      if (
        (isObjectType(type) || isInterfaceType(type)) &&
        (isObjectType(original) || isInterfaceType(original))
      ) {
        const originalFields = original.getFields();
        for (const field of Object.values(type.getFields())) {
          const counterpart = originalFields[field.name];
          expect(counterpart && `${type.name}.${field.name}(${signature(counterpart)})`).toBe(
            `${type.name}.${field.name}(${signature(field)})`,
          );
        }
      }
      if (isInputObjectType(type) && isInputObjectType(original)) {
        expect(Object.keys(type.getFields())).toEqual(Object.keys(original.getFields()));
      }
    }
  });

  it('keeps every implementation of a kept interface, so any observable type can be answered', () => {
    const trimmed = standInSchema();
    const iface = full.getType('StixCyberObservable');
    const trimmedIface = trimmed.getType('StixCyberObservable');
    if (!isInterfaceType(iface) || !isInterfaceType(trimmedIface)) throw new Error('interface missing');
    const names = (types: readonly { name: string }[]) => types.map((t) => t.name).sort();
    expect(names(trimmed.getPossibleTypes(trimmedIface))).toEqual(names(full.getPossibleTypes(iface)));
  });

  it('refuses to trim for a document that the full schema rejects', () => {
    expect(() => trimSchema(FULL_SDL, ['query { noSuchField }'], 'x')).toThrow(/does not validate/);
  });
});
