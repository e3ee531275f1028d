/** The part of an ajv error the message needs. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/inputs/0/text` → `inputs[0].text` (the JSON path a client writes, without `$.`). */
export function jsonPath(instancePath: string, property?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (property !== undefined) parts.push(property);
  let path = '';
  for (const raw of parts) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : path === '' ? part : `.${part}`;
  }
  return path;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function valueAt(data: unknown, instancePath: string): unknown {
  let value = data;
  for (const raw of instancePath.split('/').slice(1)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

const ARTICLE: Record<string, string> = { array: 'an array', integer: 'an integer', object: 'an object', null: 'null' };

function orList(items: string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

/**
 * One message for a failed schema validation, naming the field once by its JSON path. ajv reports every branch
 * of an anyOf (six lines for `{"inputs": 42}`); the deepest path is where the request actually went wrong, and the
 * types the branches wanted there are merged into one "must be a or b" sentence.
 */
export function describeValidation(errors: readonly SchemaError[], where: string, data?: unknown): string {
  const required = errors.find((error) => error.keyword === 'required');
  const deepest = Math.max(...errors.map((error) => error.instancePath.split('/').length));
  const atDeepest = errors.filter((error) => error.instancePath.split('/').length === deepest && error.keyword !== 'anyOf');
  // A missing property is the clearest fault when nothing deeper went wrong.
  if (required !== undefined && (atDeepest.length === 0 || required.instancePath.split('/').length >= deepest)) {
    const path = jsonPath(required.instancePath, String(required.params.missingProperty));
    return `invalid request ${where}: \`${path}\` is required`;
  }
  const first = atDeepest[0] ?? errors[0];
  if (first === undefined) return `invalid request ${where}`;
  const path = jsonPath(first.instancePath);
  const field = path === '' ? `the ${where}` : `\`${path}\``;
  const types = atDeepest.filter((error) => error.keyword === 'type').flatMap((error) => String(error.params.type).split(','));
  if (types.length > 0) {
    const got = data === undefined ? '' : ` (got ${typeOf(valueAt(data, first.instancePath))})`;
    return `invalid request ${where}: ${field} must be ${orList(types.map((type) => ARTICLE[type] ?? `a ${type}`))}${got}`;
  }
  const enumError = atDeepest.find((error) => error.keyword === 'enum');
  if (enumError !== undefined) {
    const allowed = (enumError.params.allowedValues as unknown[] | undefined) ?? [];
    return `invalid request ${where}: ${field} must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  return `invalid request ${where}: ${field} ${first.message ?? 'is invalid'}`;
}
