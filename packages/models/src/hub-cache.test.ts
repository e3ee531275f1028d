import { homedir } from 'node:os';
import { join } from 'node:path';
import { isEmbedderError } from '@embedder-rag/core';
import { describe, expect, it } from 'vitest';
import { hubCacheDir, isCommitSha, repoCacheDir } from './hub-cache';
import { resolveUrl } from './hub-client';
import { moduleKind } from './modules';
import { parsePoolingConfig } from './pooling-config';

describe('hubCacheDir', () => {
  it('follows huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/c' })).toBe(join('/b', 'hub'));
    expect(hubCacheDir({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'huggingface', 'hub'));
    expect(hubCacheDir({ HF_HUB_CACHE: '' })).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
  });

  it('names repo folders models--org--name', () => {
    expect(repoCacheDir('/cache', 'sentence-transformers/all-MiniLM-L6-v2')).toBe(
      join('/cache', 'models--sentence-transformers--all-MiniLM-L6-v2'),
    );
    expect(repoCacheDir('/cache', 'bert-base-uncased')).toBe(join('/cache', 'models--bert-base-uncased'));
    expect(isCommitSha('c9745ed1d9f207416be6d2e6f8de32d1f16199bf')).toBe(true);
    expect(isCommitSha('main')).toBe(false);
  });

  it('builds resolve URLs with each path part escaped', () => {
    expect(resolveUrl('https://hub', 'org/na me', 'refs/pr/1', 'onnx/model.onnx')).toBe(
      'https://hub/org/na%20me/resolve/refs%2Fpr%2F1/onnx/model.onnx',
    );
  });
});

describe('module kinds and pooling configs', () => {
  it('recognises old and new sentence-transformers class paths', () => {
    expect(moduleKind('sentence_transformers.models.Normalize')).toBe('normalize');
    expect(moduleKind('sentence_transformers.base.modules.normalize.Normalize')).toBe('normalize');
    expect(moduleKind('sentence_transformers.sentence_transformer.modules.pooling.Pooling')).toBe('pooling');
    expect(moduleKind('sentence_transformers.models.Dense')).toBe('dense');
    expect(moduleKind('sentence_transformers.models.LayerNorm')).toBe('other');
  });

  it('reads both pooling formats', () => {
    expect(parsePoolingConfig({ embedding_dimension: 384, pooling_mode: 'cls', include_prompt: true }, 'f')).toEqual({ mode: 'cls', dimension: 384, includePrompt: true });
    expect(parsePoolingConfig({ word_embedding_dimension: 8, pooling_mode_max_tokens: true }, 'f')).toEqual({ mode: 'max', dimension: 8, includePrompt: true });
    expect(parsePoolingConfig({ pooling_mode_mean_tokens: true, pooling_mode_cls_token: false, include_prompt: false }, 'f')).toEqual({ mode: 'mean', includePrompt: false });
  });

  it.each([
    [{ pooling_mode_mean_sqrt_len_tokens: true }, 'mean_sqrt_len_tokens'],
    [{ pooling_mode_weightedmean_tokens: true }, 'weightedmean'],
    [{ pooling_mode_lasttoken: true }, 'lasttoken'],
    [{ pooling_mode: 'mean_sqrt_len_tokens' }, 'mean_sqrt_len_tokens'],
    [{ pooling_mode: 'weightedmean' }, 'weightedmean'],
    [{ pooling_mode: 'lasttoken' }, 'lasttoken'],
    [{ pooling_mode: 'mean_tokens' }, 'mean'],
  ])('reads every sentence-transformers pooling mode: %j', (config, mode) => {
    expect(parsePoolingConfig(config, 'f').mode).toBe(mode);
  });

  it('rejects configs without a mode or with an unknown one (MODEL_INVALID naming the field) and concatenated modes (UNSUPPORTED)', () => {
    const codeOf = (config: Record<string, unknown>) => {
      try {
        parsePoolingConfig(config, '/m/1_Pooling/config.json');
      } catch (error) {
        return isEmbedderError(error) ? [error.code, error.message] : ['?', String(error)];
      }
      return ['none', ''];
    };
    expect(codeOf({ pooling_mode_cls_token: false })).toEqual(['MODEL_INVALID', '/m/1_Pooling/config.json sets no pooling mode']);
    expect(codeOf({ pooling_mode_cls_token: true, pooling_mode_max_tokens: true })[0]).toBe('UNSUPPORTED');
    expect(codeOf({ pooling_mode: 'median' })).toEqual([
      'MODEL_INVALID',
      `/m/1_Pooling/config.json: "pooling_mode" 'median' is not a pooling mode; known: cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken`,
    ]);
  });
});
