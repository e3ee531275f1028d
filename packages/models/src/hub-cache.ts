import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DENSE_WEIGHT_FILES } from './model-spec';
import { poolingConfigPath, readModules } from './modules';

/** Environment variables the Hugging Face cache location is read from. */
export type HubEnv = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The Hugging Face hub cache folder, as huggingface_hub computes it: HF_HUB_CACHE, else HF_HOME/hub, else
 * XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
export function hubCacheDir(env: HubEnv = process.env): string {
  if (set(env.HF_HUB_CACHE)) return env.HF_HUB_CACHE;
  if (set(env.HUGGINGFACE_HUB_CACHE)) return env.HUGGINGFACE_HUB_CACHE;
  if (set(env.HF_HOME)) return join(env.HF_HOME, 'hub');
  const cacheHome = set(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cacheHome, 'huggingface', 'hub');
}

/** `<cacheDir>/models--org--name`: where the cache keeps one repo. */
export function repoCacheDir(cacheDir: string, repoId: string): string {
  return join(cacheDir, `models--${repoId.split('/').join('--')}`);
}

/** True for a full 40-hex commit sha. */
export function isCommitSha(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * The commit a revision points at in the cache: the content of refs/<revision>, or the revision itself when it is a
 * commit sha. Undefined when the cache does not know the revision.
 */
export async function cachedCommit(repoDir: string, revision: string): Promise<string | undefined> {
  if (isCommitSha(revision)) return revision;
  try {
    const commit = (await readFile(join(repoDir, 'refs', revision), 'utf8')).trim();
    return commit === '' ? undefined : commit;
  } catch {
    return undefined;
  }
}

/** Files of a model folder beyond the weights: the first two must exist, the rest may be absent on the Hub. */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json'] as const;
export const OPTIONAL_FILES = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
] as const;

/** Alternative groups of module files a model folder needs, read from its modules.json. */
export async function moduleFileGroups(dir: string): Promise<{ optional: string[]; groups: string[][] }> {
  const modules = await readModules(dir);
  const optional: string[] = [];
  const groups: string[][] = [];
  if (modules === undefined) return { optional, groups };
  if (modules.some((module) => module.kind === 'pooling')) optional.push(poolingConfigPath(modules));
  for (const module of modules) {
    if (module.kind !== 'dense') continue;
    groups.push([`${module.path}/config.json`]);
    groups.push(DENSE_WEIGHT_FILES.map((name) => `${module.path}/${name}`));
  }
  return { optional, groups };
}

/**
 * What a snapshot folder lacks to be used as it is: required files, a module file that is neither there nor recorded
 * as absent on the Hub (`.no_exist/<commit>/<file>`), or a weight group none of whose alternatives is there.
 * Empty when complete.
 */
export async function missingFromSnapshot(
  snapshotDir: string,
  noExistDir: string | undefined,
  weightGroups: readonly (readonly string[])[],
): Promise<string[]> {
  const missing: string[] = REQUIRED_FILES.filter((file) => !existsSync(join(snapshotDir, file)));
  if (missing.length > 0) return missing;
  const knownAbsent = (file: string) => noExistDir !== undefined && existsSync(join(noExistDir, file));
  const modules = await moduleFileGroups(snapshotDir);
  for (const file of modules.optional) {
    if (!existsSync(join(snapshotDir, file)) && !knownAbsent(file)) missing.push(file);
  }
  for (const group of [...modules.groups, ...weightGroups]) {
    if (!group.some((file) => existsSync(join(snapshotDir, file)))) missing.push(group.join(' or '));
  }
  return missing;
}
