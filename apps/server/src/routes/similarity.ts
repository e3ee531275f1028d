import type { FastifyPluginAsync } from 'fastify';
import { batchCosineSimilarity, findTopK } from '@embedder-rag/similarity';
import type { AppContext } from '../context';
import { HttpError } from '../errors';
import { runEmbedding } from '../inference';
import { errorResponses, ref, type SimilarityBody } from '../schemas';

/** TEI's `POST /similarity`: one cosine per sentence; `parameters.top_k` (ours) answers the k best instead. */
export const similarityRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post<{ Body: SimilarityBody }>(
    '/similarity',
    {
      config: { shape: 'tei', inference: true },
      schema: {
        summary: 'Get sentence similarity',
        operationId: 'similarity',
        body: ref('SimilarityRequest'),
        response: { 200: { description: 'Sentence similarity', ...ref('SimilarityResponse') }, ...errorResponses('tei', [400, 401, 404, 413, 422, 424, 429, 503]) },
      },
    },
    async (request, reply) => {
      const { inputs, model: modelName } = request.body;
      const parameters = request.body.parameters ?? {};
      const model = await ctx.models().resolve(modelName, reply);
      if (inputs.sentences.length === 0) throw new HttpError(400, 'Empty', '`inputs.sentences` cannot be empty');
      if (inputs.source_sentence === '') throw new HttpError(400, 'Empty', '`inputs.source_sentence` is an empty string');
      const emptyAt = inputs.sentences.indexOf('');
      if (emptyAt >= 0) throw new HttpError(400, 'Empty', `\`inputs.sentences[${emptyAt}]\` is an empty string`);
      const result = await runEmbedding(
        ctx,
        model,
        [inputs.source_sentence, ...inputs.sentences],
        {
          field: 'inputs.sentences',
          truncate: parameters.truncate,
          ...(parameters.truncation_direction === undefined ? {} : { truncationDirection: parameters.truncation_direction }),
          promptName: parameters.prompt_name,
        },
        request,
        reply,
      );
      const [query, ...rest] = result.embeddings;
      if (parameters.top_k !== undefined && parameters.top_k !== null) {
        return findTopK(query!, rest, Math.min(parameters.top_k, rest.length));
      }
      return Array.from(batchCosineSimilarity(query!, rest));
    },
  );
};
