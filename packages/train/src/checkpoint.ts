import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbedderError } from '@embedder-rag/core';
import { float32Tensor, readSafetensors, writeSafetensors, type TensorToWrite } from '@embedder-rag/weights';
import { outputError, writeFileAtomic, temporaryPath } from './atomic';
import type { Optimizer } from './optimizer';
import type { TrainableBert } from './trainable-bert';

/** The folder under the output that holds checkpoints. */
export const CHECKPOINT_DIR = 'checkpoints';
const STATE_FILE = 'state.json';
const TENSOR_FILE = 'state.safetensors';

/** What a checkpoint records besides the tensors. */
export interface CheckpointState {
  /** Optimizer steps taken. */
  step: number;
  /** The run's settings; a resume with other settings is refused. */
  fingerprint: Record<string, unknown>;
  /** Evaluations of the epochs finished so far. */
  evaluations: { epoch: number; metric: string; value: number }[];
}

function stepFolder(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * Writes a checkpoint (parameters, AdamW moments, state) to `<output>/checkpoints/step-N`: into a temporary
 * folder first, renamed into place once complete (state.json written last), then older checkpoints removed. A run
 * killed at any moment leaves the previous checkpoint or the new one, both loadable.
 */
export async function saveCheckpoint(output: string, model: TrainableBert, optimizer: Optimizer, state: CheckpointState): Promise<string> {
  const root = join(output, CHECKPOINT_DIR);
  const final = join(root, stepFolder(state.step));
  const temporary = temporaryPath(final);
  const tensors: TensorToWrite[] = [];
  for (const [name, values] of await model.parameterValues()) tensors.push(float32Tensor(`parameter/${name}`, model.parameters.get(name)!.shape, values));
  for (const [name, { values, shape }] of await optimizer.state()) tensors.push(float32Tensor(`optimizer/${name}`, shape, values));
  try {
    await mkdir(temporary, { recursive: true });
    await writeFileAtomic(join(temporary, TENSOR_FILE), writeSafetensors(tensors, { format: 'embedder-checkpoint' }));
    await writeFileAtomic(join(temporary, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  } catch (error) {
    // Half a checkpoint would only take the space the next attempt needs; the previous one is untouched.
    await rm(temporary, { recursive: true, force: true });
    throw outputError(error, `checkpoint step ${state.step} under ${root}`, await resumeHint(output, 'no checkpoint was written yet'));
  }
  await rm(final, { recursive: true, force: true });
  await rename(temporary, final);
  for (const entry of await readdir(root)) {
    if (entry !== stepFolder(state.step)) await rm(join(root, entry), { recursive: true, force: true });
  }
  return final;
}

/** The newest complete checkpoint under `<output>/checkpoints`, if any (half-written temporary folders are ignored). */
export async function latestCheckpoint(output: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await readdir(join(output, CHECKPOINT_DIR));
  } catch {
    return undefined;
  }
  const complete = entries.filter((entry) => /^step-\d+$/.test(entry)).sort();
  return complete.length === 0 ? undefined : join(output, CHECKPOINT_DIR, complete[complete.length - 1]!);
}

/** What to tell a user whose run stopped on a refused write: resume from the newest checkpoint, else `otherwise`. */
export async function resumeHint(output: string, otherwise: string): Promise<string> {
  const checkpoint = await latestCheckpoint(output);
  return checkpoint ? `the last complete checkpoint (${checkpoint}) is intact: free space, then rerun with --resume` : otherwise;
}

/**
 * Restores a checkpoint into the model and optimizer.
 * @throws EmbedderError INVALID_CONFIG when it was made with other settings (naming them), MODEL_INVALID when it is
 * unreadable.
 */
export async function loadCheckpoint(folder: string, model: TrainableBert, optimizer: Optimizer, fingerprint: Record<string, unknown>): Promise<CheckpointState> {
  let state: CheckpointState;
  let tensors;
  try {
    state = JSON.parse(await readFile(join(folder, STATE_FILE), 'utf8')) as CheckpointState;
    const file = join(folder, TENSOR_FILE);
    tensors = readSafetensors(new Uint8Array(await readFile(file)), file);
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `checkpoint ${folder} cannot be read: ${(error as Error).message}`, { cause: error, details: { folder } });
  }
  const differing = Object.keys({ ...fingerprint, ...state.fingerprint }).filter(
    (key) => JSON.stringify(fingerprint[key]) !== JSON.stringify(state.fingerprint[key]),
  );
  if (differing.length > 0) {
    throw new EmbedderError(
      'INVALID_CONFIG',
      `cannot resume from ${folder}: it was made with other settings (${differing.map((key) => `${key}: ${JSON.stringify(state.fingerprint[key])} there, ${JSON.stringify(fingerprint[key])} now`).join('; ')})`,
      { details: { folder, differing } },
    );
  }
  const parameters = new Map<string, Float32Array>();
  const moments = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const name of tensors.names()) {
    const info = tensors.info(name)!;
    if (name.startsWith('parameter/')) parameters.set(name.slice('parameter/'.length), tensors.float32(name));
    else if (name.startsWith('optimizer/')) moments.set(name.slice('optimizer/'.length), { values: tensors.float32(name), shape: [...info.shape] });
  }
  model.assignParameters(parameters);
  optimizer.restore(state.step, moments, model.parameters);
  return state;
}
