import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context';
import { float32JsonNumbers } from '../float32-json';
import { runEmbedding, toTexts } from '../inference';
import { errorResponses, ref, type EmbedBody } from '../schemas';

/** TEI's `POST /embed`: always a 2-D array, one row per input, in input order. */
export const embedRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post<{ Body: EmbedBody }>(
    '/embed',
    {
      config: { shape: 'tei', inference: true },
      schema: {
        summary: 'Get embeddings',
        operationId: 'embed',
        body: ref('EmbedRequest'),
        response: { 200: { description: 'Embeddings', ...ref('EmbedResponse') }, ...errorResponses('tei', [400, 401, 404, 413, 422, 424, 429, 503]) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const model = await ctx.models().resolve(body.model, reply);
      const texts = await toTexts(model, body.inputs, 'inputs');
      const result = await runEmbedding(
        ctx,
        model,
        texts,
        {
          field: 'inputs',
          ...(body.normalize === undefined ? {} : { normalize: body.normalize }),
          truncate: body.truncate,
          ...(body.truncation_direction === undefined ? {} : { truncationDirection: body.truncation_direction }),
          dimensions: body.dimensions,
          promptName: body.prompt_name,
        },
        request,
        reply,
      );
      return result.embeddings.map(float32JsonNumbers);
    },
  );
};
