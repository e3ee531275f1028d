import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context';
import { HttpError } from '../errors';
import { errorResponses, ref, type DecodeBody, type TokenizeBody } from '../schemas';

/** TEI's `POST /tokenize` (tokens with character offsets) and `POST /decode`. */
export const tokenizeRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post<{ Body: TokenizeBody }>(
    '/tokenize',
    {
      config: { shape: 'tei' },
      schema: {
        summary: 'Tokenize inputs',
        operationId: 'tokenize',
        body: ref('TokenizeRequest'),
        response: { 200: { description: 'Tokenized ids', ...ref('TokenizeResponse') }, ...errorResponses('tei', [400, 401, 404, 413, 422, 503]) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const model = await ctx.models().resolve(body.model, reply);
      const texts = typeof body.inputs === 'string' ? [body.inputs] : body.inputs;
      if (texts.length === 0) throw new HttpError(400, 'Empty', '`inputs` cannot be empty');
      if (texts.length > ctx.config.maxClientBatchSize) {
        throw new HttpError(413, 'Validation', `batch size ${texts.length} > maximum allowed batch size ${ctx.config.maxClientBatchSize} (EMBEDDER_MAX_CLIENT_BATCH_SIZE)`);
      }
      const promptName = body.prompt_name === undefined || body.prompt_name === null ? {} : { promptName: body.prompt_name };
      return await model.generator.tokenize(texts, { addSpecialTokens: body.add_special_tokens ?? true, ...promptName });
    },
  );

  app.post<{ Body: DecodeBody }>(
    '/decode',
    {
      config: { shape: 'tei' },
      schema: {
        summary: 'Decode input ids',
        operationId: 'decode',
        body: ref('DecodeRequest'),
        response: { 200: { description: 'Decoded ids', ...ref('DecodeResponse') }, ...errorResponses('tei', [400, 401, 404, 422, 503]) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const model = await ctx.models().resolve(body.model, reply);
      const ids = body.ids;
      if (ids.length === 0) throw new HttpError(400, 'Empty', '`ids` cannot be empty');
      const batch: number[][] = ids.every((id) => typeof id === 'number') ? [ids as number[]] : (ids as number[][]);
      return await model.generator.decode(batch, { skipSpecialTokens: body.skip_special_tokens ?? true });
    },
  );
};
