import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context';
import { float32JsonNumbers } from '../float32-json';
import { runEmbedding, toTexts } from '../inference';
import { errorResponses, ref, type OpenAiBody } from '../schemas';

/** Little-endian float32 bytes, base64 (what OpenAI's encoding_format "base64" means). */
function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** OpenAI's `POST /v1/embeddings` (alias `/embeddings`) and `GET /v1/models`. */
export const openAiRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  for (const url of ['/v1/embeddings', '/embeddings']) {
    app.post<{ Body: OpenAiBody }>(
      url,
      {
        config: { shape: 'openai', inference: true },
        schema: {
          summary: 'OpenAI compatible embeddings',
          operationId: url === '/embeddings' ? 'openai_embed_alias' : 'openai_embed',
          body: ref('OpenAICompatRequest'),
          response: {
            200: { description: 'Embeddings', ...ref('OpenAICompatResponse') },
            ...errorResponses('openai', [400, 401, 404, 413, 422, 424, 429, 503]),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const model = await ctx.models().resolve(body.model, reply);
        const texts = await toTexts(model, body.input, 'input');
        const result = await runEmbedding(ctx, model, texts, { field: 'input', dimensions: body.dimensions }, request, reply);
        const base64 = body.encoding_format === 'base64';
        const tokens = result.tokenCounts.reduce((sum, count) => sum + count, 0);
        return {
          object: 'list',
          data: result.embeddings.map((vector, index) => ({
            object: 'embedding',
            embedding: base64 ? toBase64(vector) : float32JsonNumbers(vector),
            index,
          })),
          model: model.name,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        };
      },
    );
  }

  const started = Math.floor(Date.now() / 1000);
  app.get(
    '/v1/models',
    {
      config: { shape: 'openai' },
      schema: { summary: 'Served models', operationId: 'openai_models', response: { 200: ref('ModelList'), ...errorResponses('openai', [401, 503]) } },
    },
    async () => ({
      object: 'list',
      data: ctx.models().list().map((model) => ({ id: model.name, object: 'model', created: started, owned_by: 'embedder', loaded: model.loaded, dtype: model.dtype })),
    }),
  );
};
