import { z } from 'zod';
import { EmbedderError } from './errors';
import type { EmbedderSettings } from './config';

/** How a setting's text (a variable's or a flag's value) becomes its value. */
export type SettingKind =
  /** A whole number in [min, max]; with `unit`, the text counts that unit and the setting holds it × factor. */
  | { type: 'int'; min: number; max: number; unit?: { name: string; factor: number } }
  | { type: 'number'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  /** Any text; with `problem`, a text it objects to (`must …`) is refused. */
  | { type: 'string'; problem?: (text: string) => string | undefined };

/** One model setting as every config source sees it: the library's key, its variables, its flag and its help. */
export interface SettingDefinition {
  key: keyof EmbedderSettings;
  /** Variables that set it; the first one set wins (later names are aliases). */
  env: readonly string[];
  /** Long flag without dashes (CLI and server). A boolean also takes `--no-<flag>`. */
  flag: string;
  /** One-letter CLI alias. */
  short?: string;
  /** Placeholder of the flag's value in --help (not for booleans). @default 'value' */
  valueName?: string;
  kind: SettingKind;
  /** One line for --help and the READMEs. A boolean's describes what `--<flag>` does. */
  description: string;
  /** A boolean that is on by default: what `--no-<flag>` does (the form --help shows). */
  negatedDescription?: string;
  /** The default as --help shows it, when the value alone would not say it (e.g. "all cores"). */
  defaultText?: string;
  /** The library-side schema when it accepts more than the text form (a custom model object, any TTL in ms). */
  schema?: z.ZodType;
}

/** Why `url` is not a usable Redis URL (`must …`), or undefined when it is one. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be a URL like redis://HOST:PORT, got '${url}'`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `must use redis:// or rediss://, got '${parsed.protocol}' in '${url}'`;
  if (parsed.hostname === '') return `must name a host, got '${url}'`;
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return `must end in a database number (redis://HOST:PORT/0), got '/${db}' in '${url}'`;
  return undefined;
}

const customModelSchema = z.object({
  name: z.string().min(1, 'model.name must not be empty'),
  path: z.string().min(1, 'model.path must not be empty'),
  dimension: z
    .number({ error: 'model.dimension must be a number' })
    .int('model.dimension must be a whole number')
    .min(1, 'model.dimension must be from 1 to 65536')
    .max(65536, 'model.dimension must be from 1 to 65536'),
});

/**
 * THE list of model settings. The library's schema, the EMBEDDER_* variables, the CLI's options (apps/cli
 * addModelOptions) and the server's flags (apps/server config) are all derived from it: a new setting is one entry
 * here (plus its field in {@link EmbedderSettings} and, if it has one, its default in defaultSettings()).
 */
export const MODEL_SETTINGS: readonly SettingDefinition[] = [
  {
    key: 'model',
    env: ['EMBEDDER_MODEL_TYPE', 'EMBEDDER_MODEL'],
    flag: 'model',
    short: 'm',
    valueName: 'name|path',
    kind: { type: 'string' },
    description: 'model id, Hub repo id, folder name under the model path, or a folder',
    schema: z.union([z.string().min(1, 'model must not be empty'), customModelSchema]),
  },
  {
    key: 'modelPath',
    env: ['EMBEDDER_MODEL_PATH'],
    flag: 'model-path',
    valueName: 'dir',
    kind: { type: 'string' },
    description: 'folder holding model folders',
  },
  {
    key: 'backend',
    env: ['EMBEDDER_BACKEND'],
    flag: 'backend',
    valueName: 'name',
    kind: { type: 'string' },
    description: 'inference backend: onnx, tfjs, or auto (the best that initialises)',
  },
  {
    key: 'dtype',
    env: ['EMBEDDER_DTYPE'],
    flag: 'dtype',
    valueName: 'dtype',
    kind: { type: 'enum', values: ['fp32', 'q8', 'q8-dynamic'] },
    description: 'weights: fp32, q8 (row-wise int8: faster, same vector in any batch) or q8-dynamic (per-tensor int8 file)',
  },
  {
    key: 'device',
    env: ['EMBEDDER_DEVICE'],
    flag: 'device',
    valueName: 'device',
    kind: { type: 'enum', values: ['auto', 'cpu', 'cuda', 'webgpu'] },
    description: 'where the onnx backend runs: cpu, auto (GPU if one loads, else CPU, saying why), cuda, webgpu',
  },
  {
    key: 'batchSize',
    env: ['EMBEDDER_BATCH_SIZE'],
    flag: 'batch-size',
    short: 'b',
    valueName: 'n',
    kind: { type: 'int', min: 1, max: 4096 },
    description: 'most texts in one inference batch',
  },
  {
    key: 'maxBatchTokens',
    env: ['EMBEDDER_MAX_BATCH_TOKENS'],
    flag: 'max-batch-tokens',
    valueName: 'n',
    kind: { type: 'int', min: 1, max: 1_048_576 },
    description: 'most padded tokens (longest text × texts) in one batch',
  },
  {
    key: 'maxPaddingRatio',
    env: ['EMBEDDER_MAX_PADDING_RATIO'],
    flag: 'max-padding-ratio',
    valueName: 'x',
    kind: { type: 'number', min: 1, max: 1_000_000 },
    description: 'most padded tokens per real token in a batch (a batch is cut where text lengths drop)',
  },
  {
    key: 'batchOverheadTokens',
    env: ['EMBEDDER_BATCH_OVERHEAD_TOKENS'],
    flag: 'batch-overhead-tokens',
    valueName: 'n',
    kind: { type: 'number', min: 0, max: 1_000_000 },
    description: 'what one more batch costs, in padded tokens: batches are cut where their padding would cost more',
  },
  {
    key: 'normalize',
    env: ['EMBEDDER_NORMALIZE'],
    flag: 'normalize',
    kind: { type: 'boolean' },
    description: 'L2-normalise the vectors',
    negatedDescription: 'do not L2-normalise the vectors',
    defaultText: "the model's: on when its modules.json has Normalize",
  },
  {
    key: 'truncate',
    env: ['EMBEDDER_TRUNCATE'],
    flag: 'truncate',
    kind: { type: 'boolean' },
    description: "cut texts longer than the model's limit instead of failing",
    negatedDescription: "fail on a text longer than the model's limit instead of cutting it",
  },
  {
    key: 'cacheSize',
    env: ['EMBEDDER_CACHE_SIZE'],
    flag: 'cache-size',
    valueName: 'n',
    kind: { type: 'int', min: 0, max: 100_000_000 },
    description: 'in-memory cache entries, 0 = off',
  },
  {
    key: 'cacheTtlMs',
    env: ['EMBEDDER_CACHE_TTL'],
    flag: 'cache-ttl',
    valueName: 'seconds',
    kind: { type: 'int', min: 1, max: 31_536_000, unit: { name: 'seconds', factor: 1000 } },
    description: 'cache entry lifetime in seconds',
    defaultText: 'no expiry',
    schema: z.number({ error: 'cacheTtlMs must be a number' }).positive('cacheTtlMs must be more than 0'),
  },
  {
    key: 'cachePath',
    env: ['EMBEDDER_CACHE_PATH'],
    flag: 'cache-path',
    valueName: 'file',
    kind: { type: 'string' },
    description: 'persistent embedding cache file',
  },
  {
    key: 'cacheRedisUrl',
    env: ['EMBEDDER_CACHE_REDIS_URL'],
    flag: 'cache-redis-url',
    valueName: 'url',
    kind: { type: 'string', problem: redisUrlProblem },
    description: 'redis://HOST:PORT[/DB] or rediss://: a cache tier shared between processes, behind the in-memory cache',
  },
  {
    key: 'cacheRedisTimeoutMs',
    env: ['EMBEDDER_CACHE_REDIS_TIMEOUT_MS'],
    flag: 'cache-redis-timeout-ms',
    valueName: 'ms',
    kind: { type: 'int', min: 1, max: 60_000 },
    description: 'longest a shared-tier lookup or write may take; then it is a miss',
    defaultText: '250',
  },
  {
    key: 'threads',
    env: ['EMBEDDER_THREADS'],
    flag: 'threads',
    valueName: 'n',
    kind: { type: 'int', min: 1, max: 1024 },
    description: 'inference threads, shared by the replicas',
    defaultText: 'all cores',
  },
  {
    key: 'replicas',
    env: ['EMBEDDER_REPLICAS'],
    flag: 'replicas',
    valueName: 'n',
    kind: { type: 'int', min: 1, max: 64 },
    description: 'model copies running batches side by side, sharing the threads (faster on short texts, more memory)',
  },
  {
    key: 'memoryArena',
    env: ['EMBEDDER_MEMORY_ARENA'],
    flag: 'memory-arena',
    kind: { type: 'boolean' },
    description: "keep the runtime's memory arena between batches",
    negatedDescription: "release the runtime's memory between batches (less memory, slower)",
  },
  {
    key: 'offline',
    env: ['EMBEDDER_OFFLINE', 'HF_HUB_OFFLINE'],
    flag: 'offline',
    kind: { type: 'boolean' },
    description: 'never download a model: only the model path, the Hugging Face cache and folders are used',
  },
];

function invalid(source: string, message: string, details: Record<string, unknown> = {}): EmbedderError {
  return new EmbedderError('INVALID_CONFIG', message, { details: { variable: source, ...details } });
}

/**
 * Parses the text of a setting of `kind` (from a variable or a flag). A bad one throws INVALID_CONFIG naming `source`
 * (the variable or `--flag`) and what is accepted.
 */
export function parseSettingText(kind: SettingKind, raw: string, source: string): unknown {
  switch (kind.type) {
    case 'int': {
      const value = Number(raw);
      if (!/^\s*-?\d+\s*$/.test(raw) || value < kind.min || value > kind.max) {
        const unit = kind.unit === undefined ? '' : ` of ${kind.unit.name}`;
        throw invalid(source, `${source} must be a whole number${unit} from ${kind.min} to ${kind.max}, got '${raw}'`, {
          min: kind.min,
          max: kind.max,
        });
      }
      return value * (kind.unit?.factor ?? 1);
    }
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value) || value < kind.min || value > kind.max) {
        throw invalid(source, `${source} must be a number from ${kind.min} to ${kind.max}, got '${raw}'`, { min: kind.min, max: kind.max });
      }
      return value;
    }
    case 'boolean': {
      const value = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      throw invalid(source, `${source} must be true or false, got '${raw}'`);
    }
    case 'enum':
      if (!kind.values.includes(raw)) {
        throw invalid(source, `${source} must be one of ${kind.values.join(', ')}, got '${raw}'`, { allowed: kind.values });
      }
      return raw;
    case 'string': {
      const problem = kind.problem?.(raw);
      if (problem !== undefined) throw invalid(source, `${source} ${problem}`);
      return raw;
    }
  }
}

function quotedList(values: readonly string[]): string {
  const quoted = values.map((value) => `'${value}'`);
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`;
}

/** The library-side zod schema of a setting (its value, not its text), with messages that name the key. */
export function settingSchema(setting: SettingDefinition): z.ZodType {
  if (setting.schema !== undefined) return setting.schema;
  const { key, kind } = setting;
  switch (kind.type) {
    case 'int': {
      const range = `${key} must be from ${kind.min} to ${kind.max}`;
      return z.number({ error: `${key} must be a number` }).int(`${key} must be a whole number`).min(kind.min, range).max(kind.max, range);
    }
    case 'number': {
      const range = `${key} must be from ${kind.min} to ${kind.max}`;
      return z.number({ error: `${key} must be a number` }).min(kind.min, range).max(kind.max, range);
    }
    case 'boolean':
      return z.boolean({ error: `${key} must be true or false` });
    case 'enum':
      return z.enum(kind.values as [string, ...string[]], { error: `${key} must be ${quotedList(kind.values)}` });
    case 'string': {
      const text = z.string({ error: `${key} must be a string` }).min(1, `${key} must not be empty`);
      const { problem } = kind;
      if (problem === undefined) return text;
      return text.superRefine((value, context) => {
        const found = problem(value);
        if (found !== undefined) context.addIssue({ code: 'custom', message: `${key} ${found}` });
      });
    }
  }
}
