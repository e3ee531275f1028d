import type { ModelSpec } from '@embedder-rag/core';
import { ConfigFields } from '../config-fields';
import type { EncoderFamily } from '../encoder-family';
import { loadBertStyleEncoder, type BertVariant } from './bert';

/** How (XLM-)RoBERTa differs from BERT: positions counted past pad_token_id, no token types. */
export function xlmRobertaVariant(model: ModelSpec): BertVariant {
  return { padIndex: new ConfigFields(model).index('pad_token_id', 1), tokenTypes: false };
}

/**
 * XLM-RoBERTa (multilingual-e5, bge-m3, paraphrase-multilingual-*) and RoBERTa, which share its modelling code:
 * BERT's layers and names, but positions start past the padding index (pad_token_id + 1, counted from the ids,
 * so the usable length is max_position_embeddings − pad − 1) and there are no token types to feed: type row 0 is
 * added to every token. LayerNorm eps comes from config.json (1e-5 here, not BERT's 1e-12).
 */
export const xlmRobertaFamily: EncoderFamily = {
  name: 'xlm-roberta',
  modelTypes: ['xlm-roberta', 'roberta'],
  load: (model, weights) => loadBertStyleEncoder(model, weights, xlmRobertaVariant(model)),
};
