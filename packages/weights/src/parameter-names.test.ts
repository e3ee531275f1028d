import { describe, expect, it } from 'vitest';
import { parameterNameCandidates } from './parameter-names';

describe('parameterNameCandidates', () => {
  it('lists the plain, bert./roberta./mpnet.-prefixed and gamma/beta spellings, plain first', () => {
    expect(parameterNameCandidates('embeddings.LayerNorm.weight')).toEqual([
      'embeddings.LayerNorm.weight',
      'embeddings.LayerNorm.gamma',
      'bert.embeddings.LayerNorm.weight',
      'bert.embeddings.LayerNorm.gamma',
      'roberta.embeddings.LayerNorm.weight',
      'roberta.embeddings.LayerNorm.gamma',
      'mpnet.embeddings.LayerNorm.weight',
      'mpnet.embeddings.LayerNorm.gamma',
    ]);
    expect(parameterNameCandidates('encoder.layer.0.output.LayerNorm.bias')).toContain('bert.encoder.layer.0.output.LayerNorm.beta');
    expect(parameterNameCandidates('encoder.layer.0.attention.self.query.weight')).toEqual([
      'encoder.layer.0.attention.self.query.weight',
      'bert.encoder.layer.0.attention.self.query.weight',
      'roberta.encoder.layer.0.attention.self.query.weight',
      'mpnet.encoder.layer.0.attention.self.query.weight',
    ]);
  });
});
