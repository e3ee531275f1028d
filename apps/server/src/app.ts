import { timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger as PinoLogger } from 'pino';
import type { AppContext } from './context';
import { HttpError, errorBody, toHttpError, type ErrorShape } from './errors';
import { SHARED_SCHEMAS } from './schemas';
import { embedRoutes } from './routes/embed';
import { openAiRoutes } from './routes/openai';
import { similarityRoutes } from './routes/similarity';
import { statusRoutes } from './routes/status';
import { tokenizeRoutes } from './routes/tokenize';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which error body the route answers with. */
    shape?: ErrorShape;
    /** Counted in te_request_* metrics. */
    inference?: boolean;
  }
}

const serializeJson = (data: unknown): string => JSON.stringify(data);

/** Routes a load balancer or orchestrator calls without credentials. */
const OPEN_ROUTES = new Set(['/health', '/ready']);
/** The API page: a browser cannot send a bearer token when it loads a page; its "Authorize" button sends it on calls. */
const DOCS_PREFIX = '/docs';
const isOpen = (path: string) => OPEN_ROUTES.has(path) || path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);

function shapeOf(request: FastifyRequest): ErrorShape {
  return request.routeOptions.config?.shape ?? (request.url.startsWith('/v1/') || request.url.startsWith('/embeddings') ? 'openai' : 'tei');
}

/** TEI's te_request_failure labels. */
function failureLabel(error: HttpError): string {
  switch (error.type) {
    case 'Overloaded':
      return 'overloaded';
    case 'Tokenizer':
      return 'tokenization';
    case 'Backend':
      return 'inference';
    case 'Unhealthy':
      return 'unhealthy';
    case 'ClientClosed':
      return 'client_closed';
    default:
      return 'validation';
  }
}

function bearerMatches(header: string | undefined, key: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The fastify app with every route, schema, hook and the error handler; it does not listen. */
export async function buildApp(ctx: AppContext, logger: PinoLogger) {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: logger,
    // One line per request would flood the log under load; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.payloadLimit,
    // Requests must fail on wrong types, not be coerced ("123" stays a string, 5 never becomes "5").
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, strict: false, formats: { float: true } } },
    return503OnClosing: true,
  });
  // JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  // Responses are built by our handlers; JSON.stringify keeps number arrays fast and untouched (vectors arrive as
  // the shortest float32 decimals, float32-json.ts).
  app.setSerializerCompiler(() => serializeJson);

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'embedder',
        description: 'Text embeddings: TEI-compatible and OpenAI-compatible routes',
        version: ctx.version,
        license: { name: 'MIT' },
      },
      components: config.apiKey === undefined ? {} : { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(config.apiKey === undefined ? {} : { security: [{ bearer: [] }] }),
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  if (config.corsOrigin !== undefined) {
    const origins = config.corsOrigin.split(',').map((origin) => origin.trim());
    await app.register(cors, { origin: origins.includes('*') ? '*' : origins });
  }

  if (config.apiKey !== undefined) {
    const key = config.apiKey;
    app.addHook('onRequest', async (request) => {
      const path = request.url.split('?')[0] ?? '';
      if (isOpen(path) || request.method === 'OPTIONS') return;
      if (!bearerMatches(request.headers.authorization, key)) {
        throw new HttpError(401, 'Unauthorized', 'missing or wrong API key: send `Authorization: Bearer <key>` (EMBEDDER_API_KEY)', {
          'www-authenticate': 'Bearer',
        });
      }
    });
  }

  // While draining, each answer closes its connection so keep-alive clients cannot hold the shutdown open.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (ctx.phase === 'draining') reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    if (!request.routeOptions.config?.inference) return;
    ctx.metrics.requestDuration.observe(reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const http = toHttpError(error, config.payloadLimit, { body: request.body, querystring: request.query });
    if (request.routeOptions.config?.inference) ctx.metrics.requestFailure.inc({ err: failureLabel(http) });
    if (http.status >= 500) request.log.error({ err: error, url: request.url }, http.message);
    else request.log.debug({ status: http.status, url: request.url }, http.message);
    return reply.code(http.status).headers(http.headers).type('application/json').send(errorBody(http, shapeOf(request)));
  });
  // Which methods each path has, so a known path with another method is a 405 with Allow, not a 404.
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByUrl.set(route.url, methods);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = methodsByUrl.get(path);
    if (allowed !== undefined) {
      const allow = [...allowed].sort().join(', ');
      const http = new HttpError(405, 'Validation', `method ${request.method} is not allowed on ${path}; allowed: ${allow}`, { allow });
      return reply.code(405).headers(http.headers).send(errorBody(http, shapeOf(request)));
    }
    const http = new HttpError(404, 'NotFound', `no route ${request.method} ${path}`);
    return reply.code(404).send(errorBody(http, shapeOf(request)));
  });

  if (config.docs === 'on') {
    // Swagger UI over the same document as /openapi.json; its assets ship in @fastify/swagger-ui (no CDN).
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { displayRequestDuration: true } });
  }
  await app.register(embedRoutes, { ctx });
  await app.register(openAiRoutes, { ctx });
  await app.register(similarityRoutes, { ctx });
  await app.register(tokenizeRoutes, { ctx });
  await app.register(statusRoutes, { ctx });
  app.get('/openapi.json', { schema: { hide: true }, config: { shape: 'tei' } }, async () => app.swagger());
  return app;
}
