/**
 * Cuts the OpenCTI schema (about 550 KB) down to what the product's documents use, so that the
 * stand-in can ship it as data and validate incoming documents exactly as OpenCTI would.
 *
 * Kept: the root fields the documents select; for every other object or interface, only the
 * fields the documents select on it (with all their arguments); every input type, enum and scalar
 * those arguments and variables reach, whole. An interface keeps all its implementations (each
 * with the interface's kept fields), so any observable type can be answered.
 *
 * Descriptions and directives are dropped: they do not take part in validation.
 */
import {
  Kind,
  TypeInfo,
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  parse,
  print,
  validate,
  visit,
  visitWithTypeInfo,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type NamedTypeNode,
  type TypeNode,
} from 'graphql';

function namedTypeOf(node: TypeNode): string {
  return node.kind === Kind.NAMED_TYPE ? node.name.value : namedTypeOf(node.type);
}

interface Usage {
  /** Selected fields per object/interface type. */
  fields: Map<string, Set<string>>;
  /** Type names that must exist (return types, argument and variable types, fragment conditions). */
  types: Set<string>;
}

function collectUsage(schema: GraphQLSchema, documents: readonly string[]): Usage {
  const usage: Usage = { fields: new Map(), types: new Set() };
  const typeInfo = new TypeInfo(schema);
  for (const source of documents) {
    const ast = parse(source);
    const errors = validate(schema, ast);
    if (errors.length > 0) {
      throw new Error(`A document does not validate against the full schema: ${errors[0]?.message}`);
    }
    visit(
      ast,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (!parent || !field || node.name.value.startsWith('__')) return;
          const set = usage.fields.get(parent.name) ?? new Set<string>();
          set.add(field.name);
          usage.fields.set(parent.name, set);
          usage.types.add(getNamedType(field.type).name);
          for (const arg of field.args) usage.types.add(getNamedType(arg.type).name);
        },
        VariableDefinition(node) {
          usage.types.add(namedTypeOf(node.type));
        },
        InlineFragment(node) {
          if (node.typeCondition) usage.types.add(node.typeCondition.name.value);
        },
        FragmentDefinition(node) {
          usage.types.add(node.typeCondition.name.value);
        },
      }),
    );
  }
  return usage;
}

/** Every type reachable from the usage, following only kept fields, input fields and implementations. */
function closeOver(
  schema: GraphQLSchema,
  usage: Usage,
): { keep: Set<string>; fieldsOf: Map<string, Set<string>> } {
  const keep = new Set<string>();
  const fieldsOf = new Map<string, Set<string>>();
  const pending: string[] = [...usage.types];
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (root && usage.fields.has(root.name)) pending.push(root.name);
  }

  const interfacesOf = (type: GraphQLNamedType): string[] =>
    isObjectType(type) || isInterfaceType(type) ? type.getInterfaces().map((i) => i.name) : [];

  const computeFields = (type: GraphQLNamedType): Set<string> => {
    const own = new Set(usage.fields.get(type.name) ?? []);
    for (const iface of interfacesOf(type)) {
      for (const f of usage.fields.get(iface) ?? []) own.add(f);
    }
    return own;
  };

  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (keep.has(name)) continue;
    const type = schema.getType(name);
    if (!type) throw new Error(`Type ${name} is not in the schema`);
    keep.add(name);

    if (isObjectType(type) || isInterfaceType(type)) {
      const fields = computeFields(type);
      const all = type.getFields();
      if (fields.size === 0) {
        // A type kept only as a fragment condition or union member still needs one field.
        const first = Object.keys(all)[0];
        if (first) fields.add(first);
      }
      fieldsOf.set(name, fields);
      for (const f of fields) {
        const def = all[f];
        if (!def) continue;
        pending.push(getNamedType(def.type).name);
        for (const arg of def.args) pending.push(getNamedType(arg.type).name);
      }
      if (isInterfaceType(type)) {
        for (const impl of schema.getPossibleTypes(type)) pending.push(impl.name);
      }
    } else if (isUnionType(type)) {
      for (const member of type.getTypes()) pending.push(member.name);
    } else if (isInputObjectType(type)) {
      for (const f of Object.values(type.getFields())) pending.push(getNamedType(f.type).name);
    }
  }
  return { keep, fieldsOf };
}

/** Drops descriptions and directive usages from a definition node. */
function strip<T>(node: T): T {
  return visit(node as unknown as DefinitionNode, {
    enter(n) {
      if ('description' in n && n.description) return { ...n, description: undefined };
      return undefined;
    },
    Directive: () => null,
  }) as unknown as T;
}

/** Returns the trimmed schema as SDL text, with a header saying where it comes from. */
export function trimSchema(fullSdl: string, documents: readonly string[], header: string): string {
  const full = buildSchema(fullSdl);
  const usage = collectUsage(full, documents);
  const { keep, fieldsOf } = closeOver(full, usage);
  const fullAst = parse(fullSdl, { noLocation: true });

  const definitions: DefinitionNode[] = [];
  for (const def of fullAst.definitions) {
    if (!('name' in def) || !def.name || !keep.has(def.name.value)) continue;
    const name = def.name.value;
    if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION) {
      const fields = fieldsOf.get(name) ?? new Set<string>();
      const interfaces: NamedTypeNode[] = (def.interfaces ?? []).filter((i) => keep.has(i.name.value));
      definitions.push(
        strip({
          ...def,
          interfaces,
          fields: (def.fields ?? []).filter((f) => fields.has(f.name.value)),
        }),
      );
    } else if (def.kind === Kind.UNION_TYPE_DEFINITION) {
      definitions.push(strip({ ...def, types: (def.types ?? []).filter((t) => keep.has(t.name.value)) }));
    } else if (
      def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION ||
      def.kind === Kind.ENUM_TYPE_DEFINITION ||
      def.kind === Kind.SCALAR_TYPE_DEFINITION
    ) {
      definitions.push(strip(def));
    }
  }
  definitions.sort((a, b) => {
    const an = 'name' in a && a.name ? a.name.value : '';
    const bn = 'name' in b && b.name ? b.name.value : '';
    return an.localeCompare(bn, 'en');
  });
  const trimmed: DocumentNode = { kind: Kind.DOCUMENT, definitions };
  const lines = header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
  return `${lines}\n\n${print(trimmed)}\n`;
}
