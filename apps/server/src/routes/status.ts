import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context';
import { HttpError } from '../errors';
import { errorResponses, ref } from '../schemas';

const TEI_DTYPE: Record<string, string> = { fp32: 'float32', q8: 'int8' };

/** `GET /info`, `/health` (liveness), `/ready` (readiness) and `/metrics`. */
export const statusRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get<{ Querystring: { model?: string } }>(
    '/info',
    {
      config: { shape: 'tei' },
      schema: {
        summary: 'Served model info',
        operationId: 'get_model_info',
        querystring: { type: 'object', properties: { model: { type: 'string', description: 'embedder extension: which served model' } } },
        response: { 200: { description: 'Served model info', ...ref('Info') }, ...errorResponses('tei', [401, 404, 503]) },
      },
    },
    async (request, reply) => {
      const pool = ctx.models();
      const served = await pool.resolve(request.query.model, reply);
      const { model, settings } = served.generator;
      return {
        model_id: model.repoId ?? model.id,
        model_sha: model.revision ?? null,
        model_dtype: TEI_DTYPE[model.dtype] ?? model.dtype,
        served_model_name: served.name,
        model_type: { embedding: { pooling: model.pooling } },
        max_concurrent_requests: ctx.config.maxConcurrentRequests,
        max_input_length: model.maxSeqLength,
        max_batch_tokens: settings.maxBatchTokens,
        max_batch_requests: settings.batchSize,
        max_client_batch_size: ctx.config.maxClientBatchSize,
        auto_truncate: settings.truncate,
        tokenization_workers: 1,
        version: ctx.version,
        sha: null,
        docker_label: process.env.EMBEDDER_DOCKER_LABEL ?? null,
        models: pool.list().map((entry) => entry.name),
        model_states: pool.list(),
        device: {
          requested: model.device.requested,
          used: model.device.used,
          skipped: model.device.skipped,
          gpu_max_abs_diff: model.device.gpuMaxAbsDiff ?? null,
        },
      };
    },
  );

  // Liveness: the process is up, a model is loaded and the last inference did not fail in the backend.
  // It never runs inference itself, so it answers at once even while a large batch runs.
  app.get(
    '/health',
    {
      config: { shape: 'tei' },
      schema: { summary: 'Health check', operationId: 'health', response: { 200: { description: 'Everything is working fine' }, 503: ref('ErrorResponse') } },
    },
    async (_request, reply) => {
      const pool = ctx.pool;
      const down = pool === undefined || ctx.phase === 'failed' || ctx.phase === 'closed' || ctx.lastBackendError !== undefined;
      if (down || !pool.loaded().every((generator) => generator.alive)) {
        throw new HttpError(503, 'Unhealthy', 'unhealthy');
      }
      return reply.code(200).send();
    },
  );

  // Readiness: 503 while models load and from the first moment of a shutdown, so balancers stop sending traffic.
  app.get(
    '/ready',
    {
      config: { shape: 'tei' },
      schema: { summary: 'Readiness check', operationId: 'ready', response: { 200: { description: 'Ready for traffic' }, 503: ref('ErrorResponse') } },
    },
    async (_request, reply) => {
      if (ctx.phase !== 'ready') throw new HttpError(503, 'Unhealthy', `not ready: ${ctx.phase}`);
      return reply.code(200).send();
    },
  );

  app.get(
    '/metrics',
    {
      config: { shape: 'tei' },
      schema: { summary: 'Prometheus metrics scrape endpoint', operationId: 'metrics', response: { 200: { description: 'Prometheus Metrics', type: 'string' } } },
    },
    async (_request, reply) => {
      const { contentType, body } = await ctx.metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};
