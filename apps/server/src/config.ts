import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  DEFAULT_MODEL,
  EmbedderError,
  MODEL_SETTINGS,
  defaultSettings,
  parseSettingText,
  settingFlagHelp,
  settingsFromEnv,
  throughputReplicas,
  validateSettings,
} from '@embedder-rag/core';
import type { EmbedderSettings, SettingKind } from '@embedder-rag/core';
import { parseModelEntry } from './model-entry';

/** Log levels pino knows (LOG_LEVEL, or RUST_LOG as an alias). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A server field's text: parsed like a model setting's (core), or a comma-separated list. */
type FieldKind = SettingKind | { type: 'list' };

/** One server setting: its EMBEDDER_* variable, its CLI flag, its accepted values and its default. */
export interface ServerField {
  env: string;
  flag: string;
  kind: FieldKind;
  default?: unknown;
  /** One line for `--help` and the README. */
  doc: string;
}

/** The server's own settings (the model settings come from @embedder-rag/core's EmbedderSettings). */
export const SERVER_FIELDS = {
  port: { env: 'EMBEDDER_PORT', flag: 'port', kind: { type: 'int', min: 0, max: 65535 }, default: 8080, doc: 'TCP port (0 = any free port)' },
  host: { env: 'EMBEDDER_HOST', flag: 'host', kind: { type: 'string' }, default: '0.0.0.0', doc: 'Address to listen on' },
  models: { env: 'EMBEDDER_MODELS', flag: 'model', kind: { type: 'list' }, doc: 'Models to serve, comma-separated (flag repeatable); the first is the default; `name@dtype` (e.g. all-minilm-l6-v2@q8) serves a model with its own dtype, in the thread of its other dtypes. Default: EMBEDDER_MODEL_TYPE or all-minilm-l6-v2' },
  apiKey: { env: 'EMBEDDER_API_KEY', flag: 'api-key', kind: { type: 'string' }, doc: 'When set, every route but /health and /ready needs `Authorization: Bearer <key>`' },
  maxConcurrentRequests: { env: 'EMBEDDER_MAX_CONCURRENT_REQUESTS', flag: 'max-concurrent-requests', kind: { type: 'int', min: 1, max: 1_000_000 }, default: 512, doc: 'Inference requests in flight at once; more get 429' },
  maxClientBatchSize: { env: 'EMBEDDER_MAX_CLIENT_BATCH_SIZE', flag: 'max-client-batch-size', kind: { type: 'int', min: 1, max: 1_000_000 }, default: 2048, doc: 'Most inputs in one request (split into batches internally); more get 413' },
  payloadLimit: { env: 'EMBEDDER_PAYLOAD_LIMIT', flag: 'payload-limit', kind: { type: 'int', min: 1024, max: 1_073_741_824 }, default: 2_000_000, doc: 'Largest request body, in bytes; larger get 413' },
  queueSize: { env: 'EMBEDDER_QUEUE_SIZE', flag: 'queue-size', kind: { type: 'int', min: 1, max: 100_000_000 }, default: 4096, doc: 'Inputs waiting for inference per model; beyond it requests get 429 with Retry-After' },
  shutdownGraceMs: { env: 'EMBEDDER_SHUTDOWN_GRACE_MS', flag: 'shutdown-grace-ms', kind: { type: 'int', min: 0, max: 3_600_000 }, default: 30_000, doc: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are cut' },
  corsOrigin: { env: 'EMBEDDER_CORS_ORIGIN', flag: 'cors-origin', kind: { type: 'string' }, doc: 'CORS allowed origins, comma-separated, or `*`; unset = CORS off' },
  logLevel: { env: 'LOG_LEVEL', flag: 'log-level', kind: { type: 'enum', values: LOG_LEVELS }, default: 'info', doc: 'Log level (RUST_LOG accepted as an alias)' },
  modelMemoryBudgetMb: { env: 'EMBEDDER_MODEL_MEMORY_BUDGET_MB', flag: 'model-memory-budget-mb', kind: { type: 'int', min: 1, max: 10_000_000 }, doc: 'Resident memory (MiB, measured per model at load) the loaded models may use; the least recently used idle model is unloaded to stay within it, and loaded again on demand. Unset = no limit' },
  docs: { env: 'EMBEDDER_DOCS', flag: 'docs', kind: { type: 'enum', values: ['on', 'off'] }, default: 'on', doc: 'The interactive API page at /docs (Swagger UI over /openapi.json)' },
} as const satisfies Record<string, ServerField>;

/** The validated server configuration. */
export const serverConfigSchema = z.object({
  port: z.number().int().min(0).max(65535),
  host: z.string().min(1),
  models: z.array(z.string().min(1)).min(1),
  apiKey: z.string().min(1).optional(),
  maxConcurrentRequests: z.number().int().min(1).max(1_000_000),
  maxClientBatchSize: z.number().int().min(1).max(1_000_000),
  payloadLimit: z.number().int().min(1024).max(1_073_741_824),
  queueSize: z.number().int().min(1).max(100_000_000),
  shutdownGraceMs: z.number().int().min(0).max(3_600_000),
  corsOrigin: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS),
  docs: z.enum(['on', 'off']),
  modelMemoryBudgetMb: z.number().int().min(1).max(10_000_000).optional(),
  /** Settings shared by every served model (validated by core's schema). */
  modelSettings: z.custom<Partial<EmbedderSettings>>((value) => typeof value === 'object' && value !== null),
});

/** What startServer runs with: see {@link SERVER_FIELDS} for each field's unit and default. */
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Parses one raw value of `field`, naming `source` (a variable or a flag) and the accepted range on failure. */
function parseField(field: ServerField, raw: string, source: string): unknown {
  if (field.kind.type !== 'list') return parseSettingText(field.kind, raw, source);
  const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) {
    throw new EmbedderError('INVALID_CONFIG', `${source} must name at least one model, got '${raw}'`, { details: { variable: source } });
  }
  for (const item of items) parseModelEntry(item, source);
  return items;
}

/** RUST_LOG may be `info` or `text_embeddings_router=debug,tower=warn`: take the first bare level, else the most verbose. */
function levelFromRustLog(raw: string): string {
  const parts = raw.split(',').map((part) => part.trim().toLowerCase());
  const bare = parts.find((part) => !part.includes('='));
  if (bare !== undefined) return bare === 'off' ? 'silent' : bare;
  const levels = parts.map((part) => part.split('=')[1] ?? '');
  return ['trace', 'debug', 'info', 'warn', 'error'].find((level) => levels.includes(level)) ?? raw;
}

/**
 * The model copies the server runs when EMBEDDER_REPLICAS is not set: {@link throughputReplicas} on the CPU (2, or 1
 * on one core or one thread), 1 on a GPU. A server's load is many small concurrent requests, and their small batches
 * leave one runtime's two threads waiting on each other; a copy per thread does not wait. `pnpm bench server`, 64
 * single-text clients, fp32, 2-core AMD EPYC (AVX-512), quiet, runs alternating: 421, 421 emb/s with two copies
 * against 352, 356 with one (the library's one call: 493, 446), p50 137-140 vs 164-170 ms. The price is memory, one
 * more copy of the weights and of the activation arena: RSS after 3,000 short texts in one process +171 MB fp32
 * (484 vs 313 MB), +159 MB q8 (393 vs 234 MB). EMBEDDER_REPLICAS=1 keeps one copy.
 */
export function serverReplicas(settings: Partial<EmbedderSettings>): number {
  if ((settings.device ?? 'cpu') !== 'cpu') return 1;
  return Math.max(1, Math.min(throughputReplicas(), settings.threads ?? availableParallelism()));
}

/** Inputs of {@link parseServerConfig}. */
export interface ConfigSources {
  /** Environment variables. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments after the program name (flags override variables). @default [] */
  argv?: string[];
  /** Values set in code (override flags and variables), e.g. by `embedder serve` or tests. */
  overrides?: Partial<ServerConfig>;
}

/**
 * Builds the server configuration from EMBEDDER_* variables, then flags, then overrides, and validates it.
 * A bad value throws EmbedderError INVALID_CONFIG naming the variable or flag and the accepted range.
 */
export function parseServerConfig(sources: ConfigSources = {}): ServerConfig {
  const env = sources.env ?? process.env;
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(SERVER_FIELDS) as [string, ServerField][]) {
    if (field.default !== undefined) values[key] = field.default;
    let raw = env[field.env];
    let source = field.env;
    if (key === 'logLevel' && (raw === undefined || raw === '') && env.RUST_LOG) {
      raw = levelFromRustLog(env.RUST_LOG);
      source = 'RUST_LOG';
    }
    if (raw !== undefined && raw !== '') values[key] = parseField(field, raw, source);
  }

  // Model settings: core's variables first, then their flags (core's parsers, so the same messages).
  const argv = sources.argv ?? [];
  const modelSettings: Partial<EmbedderSettings> = {
    ...settingsFromEnv(env),
    ...(argv.length > 0 ? applyFlags(argv, values) : {}),
    ...(sources.overrides?.modelSettings ?? {}),
  };
  modelSettings.replicas ??= serverReplicas(modelSettings);
  // Validate the shared model settings now, so startup fails before any model loads.
  validateSettings({ ...defaultSettings(), ...modelSettings });

  if (values.models === undefined) values.models = [String(modelSettings.model ?? DEFAULT_MODEL)];
  const merged = { ...values, ...stripUndefined(sources.overrides ?? {}), modelSettings };
  const result = serverConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new EmbedderError('INVALID_CONFIG', `invalid server config: ${problems.join('; ')}`, { details: { problems } });
  }
  // Entries set in code (overrides) were not read by parseField: the same check, before any model loads.
  for (const entry of result.data.models) parseModelEntry(entry, 'models');
  return result.data;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Server fields own these flags; a model setting of the same flag (`--model`) is read through the field. */
const SERVER_FLAGS = new Set((Object.values(SERVER_FIELDS) as ServerField[]).map((field) => field.flag));
/** The model settings the server reads from flags: core's list, minus the flags a server field owns. */
const MODEL_SETTING_FLAGS = MODEL_SETTINGS.filter((setting) => !SERVER_FLAGS.has(setting.flag));

/** Reads the server fields' flags into `values`; returns the model settings the flags set. */
function applyFlags(argv: string[], values: Record<string, unknown>): Partial<EmbedderSettings> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const field of Object.values(SERVER_FIELDS) as ServerField[]) {
    options[field.flag] = { type: 'string', ...(field.kind.type === 'list' ? { multiple: true } : {}) };
  }
  for (const setting of MODEL_SETTING_FLAGS) options[setting.flag] = { type: setting.kind.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    // allowNegative: a boolean setting also takes --no-<flag> (--no-normalize), as in the CLI.
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false, allowNegative: true }).values;
  } catch (error) {
    throw new EmbedderError('INVALID_CONFIG', `bad command line: ${(error as Error).message}`, { cause: error });
  }
  for (const [key, field] of Object.entries(SERVER_FIELDS) as [string, ServerField][]) {
    const raw = parsed[field.flag];
    if (raw === undefined) continue;
    const joined = Array.isArray(raw) ? raw.join(',') : String(raw);
    values[key] = parseField(field, joined, `--${field.flag}`);
  }
  const settings: Record<string, unknown> = {};
  for (const setting of MODEL_SETTING_FLAGS) {
    const raw = parsed[setting.flag];
    if (typeof raw === 'boolean') settings[setting.key] = raw;
    else if (typeof raw === 'string') settings[setting.key] = parseSettingText(setting.kind, raw, `--${setting.flag}`);
  }
  return settings as Partial<EmbedderSettings>;
}

/** The `--help` text of embedder-server: every flag with its variable and default. */
export function configHelp(): string {
  const lines = ['Usage: embedder-server [flags]   (each flag also reads from its variable)', ''];
  const line = (flag: string, variable: string, doc: string) => `  ${flag.padEnd(30)} ${variable.padEnd(34)} ${doc}`;
  for (const field of Object.values(SERVER_FIELDS) as ServerField[]) {
    const fallback = field.default === undefined ? '' : ` (default ${String(field.default)})`;
    lines.push(line(`--${field.flag}`, field.env, `${field.doc}${fallback}`));
  }
  lines.push('', 'Model settings (every served model):');
  for (const setting of MODEL_SETTING_FLAGS) {
    const help = settingFlagHelp(setting);
    const [variable, ...aliases] = setting.env;
    lines.push(line(help.flag, `${variable}${aliases.map((alias) => ` | ${alias}`).join('')}`, help.description));
  }
  return lines.join('\n');
}
