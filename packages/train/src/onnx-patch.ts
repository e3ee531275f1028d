import { EmbedderError } from '@embedder-rag/core';
import { listOnnxInitializers, readOnnxInitializer, writeOnnxInitializer, type OnnxInitializer } from './onnx-initializers';

/** A parameter as the ONNX patcher sees it: PyTorch shape, the values the template graph was exported from, the new values. */
export interface PatchParameter {
  name: string;
  shape: readonly number[];
  base: Float32Array;
  trained: Float32Array;
}

/** How one initializer was matched to a parameter. */
export interface InitializerMatch {
  initializer: string;
  parameter: string;
  /** The exporter folded a transpose into the constant ([in, out] for a Linear weight [out, in]). */
  transposed: boolean;
}

function equal(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c]!;
  return out;
}

/** The parameter an initializer name ends with (`m.encoder.layer.0…bias` → `encoder.layer.0…bias`). */
function byName(name: string, parameters: ReadonlyMap<string, PatchParameter>): PatchParameter | undefined {
  const parts = name.split('.');
  for (let skip = 0; skip < parts.length; skip++) {
    const candidate = parameters.get(parts.slice(skip).join('.'));
    if (candidate) return candidate;
  }
  return undefined;
}

function layoutOf(values: Float32Array, parameter: PatchParameter): 'same' | 'transposed' | undefined {
  if (values.length !== parameter.base.length) return undefined;
  if (equal(values, parameter.base)) return 'same';
  if (parameter.shape.length === 2 && values[0] === parameter.base[0]) {
    const [rows, columns] = parameter.shape as [number, number];
    if (equal(values, transpose(parameter.base, rows, columns))) return 'transposed';
  }
  return undefined;
}

/**
 * Replaces the weights of an ONNX graph exported from the base model by the trained ones, in place. Each float
 * initializer is matched to a parameter by name (torch.onnx keeps `…encoder.layer.0.attention.self.query.bias`),
 * else by content: constant folding stores Linear weights transposed under names like `onnx::MatMul_370`, so
 * those are found as the parameter whose base values, transposed or not, equal the initializer's.
 * @throws EmbedderError MODEL_INVALID when an initializer with more than one value matches no parameter: the
 * graph was not exported from the base model's weights, and patching it would serve stale weights.
 */
export function patchOnnxInitializers(bytes: Uint8Array, file: string, parameters: readonly PatchParameter[]): InitializerMatch[] {
  const byParameterName = new Map(parameters.map((parameter) => [parameter.name, parameter]));
  const initializers = listOnnxInitializers(bytes, file);
  const matches: InitializerMatch[] = [];
  const write = (initializer: OnnxInitializer, parameter: PatchParameter, layout: 'same' | 'transposed') => {
    const [rows, columns] = parameter.shape as [number, number];
    writeOnnxInitializer(bytes, initializer, layout === 'same' ? parameter.trained : transpose(parameter.trained, rows, columns));
    matches.push({ initializer: initializer.name, parameter: parameter.name, transposed: layout === 'transposed' });
  };
  for (const initializer of initializers) {
    const values = readOnnxInitializer(bytes, initializer);
    const named = byName(initializer.name, byParameterName);
    const namedLayout = named && layoutOf(values, named);
    if (named && namedLayout) {
      write(initializer, named, namedLayout);
      continue;
    }
    let found = false;
    for (const parameter of parameters) {
      const layout = layoutOf(values, parameter);
      if (layout) {
        write(initializer, parameter, layout);
        found = true;
        break;
      }
    }
    if (!found && initializer.length > 1) {
      throw new EmbedderError(
        'MODEL_INVALID',
        `${file}: initializer '${initializer.name}' [${initializer.dims.join(', ')}] matches none of the base model's weights; the graph was not exported from this model's weights, so it cannot carry the fine-tuned ones`,
        { details: { file, initializer: initializer.name } },
      );
    }
  }
  return matches;
}
