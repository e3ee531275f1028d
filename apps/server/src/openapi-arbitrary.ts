import fc from 'fast-check';

/** The subset of OpenAPI 3.0 / JSON Schema the server's document uses. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
}

/** One operation of the document with its JSON body schema and query parameters. */
export interface Operation {
  method: string;
  path: string;
  body?: Schema;
  query: { name: string; schema: Schema }[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: { in: string; name: string; schema: Schema }[] }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Every operation in an OpenAPI document. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      ...(operation.requestBody?.content?.['application/json']?.schema ? { body: operation.requestBody.content['application/json'].schema } : {}),
      query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map(({ name, schema }) => ({ name, schema })),
    })),
  );
}

/** Texts as clients send them: ASCII, any Unicode (lone surrogates included), whitespace. */
const text = fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 24 }), fc.constantFrom(' ', '\n\t', '🙂'));

/**
 * Values that satisfy `schema` (references resolved against the document's components). Sizes are small so a
 * request runs in milliseconds; integers reach past the vocabulary and past int32 so id checks are exercised.
 */
export function valid(schema: Schema, document: OpenApiDocument): fc.Arbitrary<unknown> {
  const resolve = (ref: string): Schema => {
    const name = ref.replace('#/components/schemas/', '');
    const found = document.components?.schemas?.[name];
    if (found === undefined) throw new Error(`unresolved $ref ${ref}`);
    return found;
  };
  const build = (node: Schema, depth: number): fc.Arbitrary<unknown> => {
    if (node.$ref !== undefined) return build(resolve(node.$ref), depth);
    const plain = buildPlain(node, depth);
    return node.nullable ? fc.oneof(plain, fc.constant(null)) : plain;
  };
  const buildPlain = (node: Schema, depth: number): fc.Arbitrary<unknown> => {
    if (node.enum !== undefined) return fc.constantFrom(...node.enum);
    const branches = node.anyOf ?? node.oneOf;
    if (branches !== undefined) return fc.oneof(...branches.map((branch) => build(branch, depth)));
    const types = node.type === undefined ? [] : [node.type].flat();
    if (types.length > 1) return fc.oneof(...types.map((type) => buildPlain({ ...node, type }, depth)));
    switch (types[0]) {
      case 'string':
        return text;
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'integer': {
        const min = node.minimum ?? -1000;
        return fc.oneof(fc.integer({ min, max: Math.max(min, node.maximum ?? min + 400) }), fc.integer({ min, max: node.maximum ?? 2 ** 40 }));
      }
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true });
      case 'array':
        return fc.array(node.items === undefined ? fc.jsonValue({ maxDepth: 1 }) : build(node.items, depth + 1), { maxLength: depth > 2 ? 1 : 4 });
      case 'object': {
        const properties = node.properties ?? {};
        const entries = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, build(value, depth + 1)]));
        return fc.record(entries, { requiredKeys: (node.required ?? []).filter((key) => key in properties) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  };
  return build(schema, 0);
}

/** Bodies that break `schema` in one place, or are not what it describes at all. */
export function invalid(schema: Schema, document: OpenApiDocument): fc.Arbitrary<unknown> {
  const anything = fc.jsonValue({ maxDepth: 3 });
  const resolved = schema.$ref === undefined ? schema : (document.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')] ?? schema);
  const keys = Object.keys(resolved.properties ?? {});
  const base = valid(schema, document);
  if (keys.length === 0) return anything;
  // One property replaced by any JSON value, or one required property dropped.
  const replaced = fc.tuple(base, fc.constantFrom(...keys), anything).map(([body, key, value]) => ({ ...(body as object), [key]: value }));
  const dropped = fc.tuple(base, fc.constantFrom(...keys)).map(([body, key]) => {
    const copy = { ...(body as Record<string, unknown>) };
    delete copy[key];
    return copy;
  });
  return fc.oneof(anything, replaced, dropped);
}
