import { Kind, parse, validate, visit, type OperationDefinitionNode, type ValueNode } from 'graphql';
import * as documents from '../../lib/opencti/documents';
import { ALL_DOCUMENTS, type GraphQlDocument } from '../../lib/opencti/documents';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { fullSchema } from './support';

/** The 7.x schemas beside 6.9.17: the LTS base and the latest 7.x checked. */
const schema7 = (file: string) =>
  buildSchema(readFileSync(path.resolve(__dirname, '../fixtures/reference/opencti', file), 'utf8'));
const SCHEMAS_7 = [
  ['7.260309.0-lts', schema7('opencti-7.260309.0-lts.schema.graphql')],
  ['7.260817.0', schema7('opencti-7.260817.0.schema.graphql')],
] as const;

const exported = (Object.entries(documents) as Array<[string, unknown]>).filter(
  (entry): entry is [string, GraphQlDocument<unknown, unknown>] =>
    typeof entry[1] === 'object' && entry[1] !== null && 'query' in entry[1] && 'operationName' in entry[1],
);

/** Literal values found anywhere inside an argument (a variable is the only thing allowed). */
function literalsIn(value: ValueNode): string[] {
  switch (value.kind) {
    case Kind.VARIABLE:
      return [];
    case Kind.LIST:
      return value.values.flatMap(literalsIn);
    case Kind.OBJECT:
      return value.fields.flatMap((f) => literalsIn(f.value));
    default:
      return [value.kind];
  }
}

describe('GraphQL documents', () => {
  it('lists every exported document in ALL_DOCUMENTS', () => {
    expect(exported.length).toBeGreaterThanOrEqual(10);
    for (const [name, doc] of exported) {
      expect({ name, listed: ALL_DOCUMENTS.includes(doc) }).toEqual({ name, listed: true });
    }
  });

  describe.each(ALL_DOCUMENTS.map((d) => [d.operationName, d] as const))('%s', (_name, doc) => {
    const ast = parse(doc.query);

    it('validates against the OpenCTI 6.9.17 schema, or is sent to 7.x only', () => {
      const errors = validate(fullSchema(), ast).map((e) => e.message);
      if (doc.platforms === '7.x') expect(errors).not.toEqual([]);
      else expect(errors).toEqual([]);
    });

    it.each(SCHEMAS_7)('validates against the OpenCTI %s schema', (_version, schema) => {
      expect(validate(schema, ast).map((e) => e.message)).toEqual([]);
    });

    it('is one operation, named as declared', () => {
      const operations = ast.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations).toHaveLength(1);
      expect((operations[0] as OperationDefinitionNode).name?.value).toBe(doc.operationName);
    });

    it('passes every argument value as a variable', () => {
      const literals: string[] = [];
      visit(ast, {
        Argument(node) {
          literals.push(...literalsIn(node.value).map((kind) => `${node.name.value}: ${kind}`));
        },
      });
      expect(literals).toEqual([]);
    });

    it('selects one root field, so OpenCTI never sees a batch', () => {
      const operation = ast.definitions[0] as OperationDefinitionNode;
      expect(operation.selectionSet.selections).toHaveLength(1);
      expect(operation.selectionSet.selections[0]?.kind).toBe(Kind.FIELD);
    });
  });

  it('marks as non-idempotent the operations whose repetition has an effect', () => {
    const nonIdempotent = ALL_DOCUMENTS.filter((d) => !d.idempotent).map((d) => d.operationName);
    expect(nonIdempotent.sort()).toEqual(['PlaybookStepExecution', 'WorkAdd']);
  });

  it('the literal check catches a pasted value', () => {
    const pasted = parse('mutation X($id: ID!) { workEdit(id: $id) { toReceived(message: "hello") } }');
    const found: string[] = [];
    visit(pasted, {
      Argument(node) {
        found.push(...literalsIn(node.value));
      },
    });
    expect(found).toEqual([Kind.STRING]);
  });
});
