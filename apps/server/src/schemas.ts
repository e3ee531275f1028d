/**
 * The JSON schemas of every request and response. Fastify validates requests with them and @fastify/swagger
 * turns the same objects into /openapi.json, so the document cannot drift from what the server accepts.
 * Names and shapes follow TEI 1.9's OpenAPI document (docs/openapi.json) where the route is shared with TEI.
 */
import { DTYPES } from './model-entry';

const tokenIds = { type: 'array', items: { type: 'integer', minimum: 0 } } as const;
const nullableBoolean = { type: ['boolean', 'null'] } as const;

/** `right`/`left` as the contract writes them; TEI's document spells them `Right`/`Left`. */
const truncationDirection = {
  $id: 'TruncationDirection',
  type: 'string',
  enum: ['right', 'left', 'Right', 'Left'],
  description: 'Which end of a too-long text is cut.',
} as const;

const inputType = {
  $id: 'InputType',
  description: 'A text, or pre-tokenized ids.',
  anyOf: [{ type: 'string' }, tokenIds],
} as const;

const input = {
  $id: 'Input',
  description: 'One input or a batch of inputs.',
  anyOf: [{ $ref: 'InputType#' }, { type: 'array', items: { $ref: 'InputType#' } }],
} as const;

const embedRequest = {
  $id: 'EmbedRequest',
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: { $ref: 'Input#' },
    normalize: { type: 'boolean', description: "L2-normalise the vectors; absent = the server's normalize setting (EMBEDDER_NORMALIZE), else the model's (on when its modules.json has Normalize)." },
    truncate: { ...nullableBoolean, description: 'Cut texts over the model limit; null = the server default (on).' },
    truncation_direction: { $ref: 'TruncationDirection#' },
    dimensions: {
      type: ['integer', 'null'],
      minimum: 1,
      description: 'Matryoshka: keep the first N components (1..model dimension), then normalise.',
    },
    prompt_name: { type: ['string', 'null'], description: "A prompt of the model's config_sentence_transformers.json (e.g. query), put before every input; unknown names are a 422." },
    model: { type: ['string', 'null'], description: 'embedder extension: which served model to use.' },
  },
} as const;

const embedResponse = {
  $id: 'EmbedResponse',
  type: 'array',
  items: { type: 'array', items: { type: 'number', format: 'float' } },
} as const;

const errorResponse = {
  $id: 'ErrorResponse',
  type: 'object',
  required: ['error', 'error_type'],
  properties: { error: { type: 'string' }, error_type: { type: 'string' } },
} as const;

const openAiErrorResponse = {
  $id: 'OpenAICompatErrorResponse',
  type: 'object',
  required: ['message', 'code', 'type'],
  properties: {
    message: { type: 'string' },
    code: { type: 'integer' },
    type: { type: 'string' },
    error_type: { type: 'string' },
  },
} as const;

const openAiRequest = {
  $id: 'OpenAICompatRequest',
  type: 'object',
  required: ['input'],
  properties: {
    input: { $ref: 'Input#' },
    model: { type: ['string', 'null'] },
    encoding_format: { type: 'string', enum: ['float', 'base64'], default: 'float' },
    dimensions: { type: ['integer', 'null'], minimum: 1 },
    user: { type: ['string', 'null'] },
  },
} as const;

const openAiResponse = {
  $id: 'OpenAICompatResponse',
  type: 'object',
  required: ['object', 'data', 'model', 'usage'],
  properties: {
    object: { type: 'string', example: 'list' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['object', 'embedding', 'index'],
        properties: {
          object: { type: 'string', example: 'embedding' },
          embedding: { anyOf: [{ type: 'array', items: { type: 'number', format: 'float' } }, { type: 'string' }] },
          index: { type: 'integer', minimum: 0 },
        },
      },
    },
    model: { type: 'string' },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'total_tokens'],
      properties: { prompt_tokens: { type: 'integer', minimum: 0 }, total_tokens: { type: 'integer', minimum: 0 } },
    },
  },
} as const;

const modelList = {
  $id: 'ModelList',
  type: 'object',
  required: ['object', 'data'],
  properties: {
    object: { type: 'string', example: 'list' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'object', 'created', 'owned_by'],
        properties: {
          id: { type: 'string' },
          object: { type: 'string', example: 'model' },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
          loaded: { type: 'boolean', description: 'embedder extension: loaded now (others load on first use)' },
          dtype: { type: 'string', enum: [...DTYPES], description: 'embedder extension: the weights it is served with (`name@dtype` entries pick their own)' },
        },
      },
    },
  },
} as const;

const tokenizeRequest = {
  $id: 'TokenizeRequest',
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    add_special_tokens: { type: 'boolean', default: true },
    prompt_name: { type: ['string', 'null'] },
    model: { type: ['string', 'null'] },
  },
} as const;

const tokenizeResponse = {
  $id: 'TokenizeResponse',
  type: 'array',
  items: {
    type: 'array',
    items: {
      type: 'object',
      required: ['id', 'text', 'special'],
      properties: {
        id: { type: 'integer', minimum: 0 },
        text: { type: 'string' },
        special: { type: 'boolean' },
        start: { type: ['integer', 'null'], minimum: 0, description: 'Offset of the first character (UTF-16 units).' },
        stop: { type: ['integer', 'null'], minimum: 0, description: 'Offset after the last character.' },
      },
    },
  },
} as const;

const decodeRequest = {
  $id: 'DecodeRequest',
  type: 'object',
  required: ['ids'],
  properties: {
    ids: { anyOf: [tokenIds, { type: 'array', items: tokenIds }] },
    skip_special_tokens: { type: 'boolean', default: true },
    model: { type: ['string', 'null'] },
  },
} as const;

const decodeResponse = { $id: 'DecodeResponse', type: 'array', items: { type: 'string' } } as const;

const similarityRequest = {
  $id: 'SimilarityRequest',
  type: 'object',
  required: ['inputs'],
  properties: {
    inputs: {
      type: 'object',
      required: ['source_sentence', 'sentences'],
      properties: {
        source_sentence: { type: 'string' },
        sentences: { type: 'array', items: { type: 'string' } },
      },
    },
    parameters: {
      type: ['object', 'null'],
      properties: {
        truncate: nullableBoolean,
        truncation_direction: { $ref: 'TruncationDirection#' },
        prompt_name: { type: ['string', 'null'] },
        top_k: {
          type: ['integer', 'null'],
          minimum: 1,
          description: 'embedder extension: answer the k best as [{ index, score }] instead of every score.',
        },
      },
    },
    model: { type: ['string', 'null'] },
  },
} as const;

const similarityResponse = {
  $id: 'SimilarityResponse',
  description: 'One cosine per sentence, in order; with parameters.top_k, the k best as { index, score }.',
  anyOf: [
    { type: 'array', items: { type: 'number', format: 'float' } },
    {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'score'],
        properties: { index: { type: 'integer' }, score: { type: 'number' } },
      },
    },
  ],
} as const;

const info = {
  $id: 'Info',
  type: 'object',
  required: [
    'model_id',
    'model_dtype',
    'model_type',
    'max_concurrent_requests',
    'max_input_length',
    'max_batch_tokens',
    'max_client_batch_size',
    'auto_truncate',
    'tokenization_workers',
    'version',
  ],
  properties: {
    model_id: { type: 'string' },
    model_sha: { type: ['string', 'null'] },
    model_dtype: { type: 'string' },
    served_model_name: { type: ['string', 'null'] },
    model_type: {
      type: 'object',
      required: ['embedding'],
      properties: {
        embedding: { type: 'object', required: ['pooling'], properties: { pooling: { type: 'string' } } },
      },
    },
    max_concurrent_requests: { type: 'integer', minimum: 0 },
    max_input_length: { type: 'integer', minimum: 0 },
    max_batch_tokens: { type: 'integer', minimum: 0 },
    max_batch_requests: { type: ['integer', 'null'], minimum: 0 },
    max_client_batch_size: { type: 'integer', minimum: 0 },
    auto_truncate: { type: 'boolean' },
    tokenization_workers: { type: 'integer', minimum: 0 },
    version: { type: 'string' },
    sha: { type: ['string', 'null'] },
    docker_label: { type: ['string', 'null'] },
    models: { type: 'array', items: { type: 'string' }, description: 'embedder extension: every served model.' },
    model_states: {
      type: 'array',
      description:
        'embedder extension: every served model, whether it is loaded now, the resident memory its last load added (bytes, measured), how often it was loaded (EMBEDDER_MODEL_MEMORY_BUDGET_MB unloads the least recently used), its dtype and the worker thread it runs in (the dtypes of one model share one; null while not loaded).',
      items: {
        type: 'object',
        required: ['name', 'loaded', 'bytes', 'loads', 'dtype', 'thread'],
        properties: {
          name: { type: 'string' },
          loaded: { type: 'boolean' },
          bytes: { type: ['integer', 'null'] },
          loads: { type: 'integer', minimum: 0 },
          dtype: { type: 'string', enum: [...DTYPES] },
          thread: { type: ['integer', 'null'] },
        },
      },
    },
    device: {
      type: 'object',
      description: 'embedder extension: the device asked for (EMBEDDER_DEVICE), the one used, why GPUs were skipped, and on a GPU the largest difference from CPU vectors on a probe batch.',
      properties: {
        requested: { type: 'string', enum: ['auto', 'cpu', 'cuda', 'webgpu'] },
        used: { type: 'string', enum: ['cpu', 'cuda', 'webgpu'] },
        skipped: { type: 'array', items: { type: 'string' } },
        gpu_max_abs_diff: { type: ['number', 'null'] },
      },
    },
  },
} as const;

/** Every shared schema, registered once with app.addSchema (they become components.schemas in /openapi.json). */
export const SHARED_SCHEMAS = [
  truncationDirection,
  inputType,
  input,
  embedRequest,
  embedResponse,
  errorResponse,
  openAiErrorResponse,
  openAiRequest,
  openAiResponse,
  modelList,
  tokenizeRequest,
  tokenizeResponse,
  decodeRequest,
  decodeResponse,
  similarityRequest,
  similarityResponse,
  info,
] as const;

/** A `$ref` to a shared schema. */
export const ref = (id: (typeof SHARED_SCHEMAS)[number]['$id']) => ({ $ref: `${id}#` });

/** TEI's error responses for an inference route, in the given body shape. */
export function errorResponses(shape: 'tei' | 'openai', statuses: number[]): Record<number, unknown> {
  const schema = ref(shape === 'tei' ? 'ErrorResponse' : 'OpenAICompatErrorResponse');
  return Object.fromEntries(statuses.map((status) => [status, { description: describeStatus(status), ...schema }]));
}

function describeStatus(status: number): string {
  const text: Record<number, string> = {
    400: 'Empty input or malformed JSON',
    401: 'Missing or wrong API key',
    404: 'Unknown model',
    413: 'Batch size, text length or payload over a limit',
    422: 'Validation or tokenization error',
    424: 'Inference failed',
    429: 'Model is overloaded (see Retry-After)',
    503: 'Not ready or shutting down',
  };
  return text[status] ?? 'Error';
}

/** Request body types matching the schemas above. */
export type InputValue = string | number[];
export interface EmbedBody {
  inputs: InputValue | InputValue[];
  normalize?: boolean;
  truncate?: boolean | null;
  truncation_direction?: 'right' | 'left' | 'Right' | 'Left';
  dimensions?: number | null;
  prompt_name?: string | null;
  model?: string | null;
}
export interface OpenAiBody {
  input: InputValue | InputValue[];
  model?: string | null;
  encoding_format?: 'float' | 'base64';
  dimensions?: number | null;
  user?: string | null;
}
export interface TokenizeBody {
  inputs: string | string[];
  add_special_tokens?: boolean;
  prompt_name?: string | null;
  model?: string | null;
}
export interface DecodeBody {
  ids: number[] | number[][];
  skip_special_tokens?: boolean;
  model?: string | null;
}
export interface SimilarityBody {
  inputs: { source_sentence: string; sentences: string[] };
  parameters?: {
    truncate?: boolean | null;
    truncation_direction?: 'right' | 'left' | 'Right' | 'Left';
    prompt_name?: string | null;
    top_k?: number | null;
  } | null;
  model?: string | null;
}
