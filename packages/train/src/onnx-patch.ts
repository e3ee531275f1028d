import { EmbedderError } from '@embedder-rag/core';
import { decodeModel, encodeModel } from '@embedder-rag/quantize';

/** ONNX TensorProto.DataType FLOAT. */
const ONNX_FLOAT = 1;

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
 * An ONNX graph exported from the base model, carrying the trained weights instead (the graph is decoded and encoded
 * by @embedder-rag/quantize's ONNX reader). Each float initializer is matched to a parameter by name
 * (torch.onnx keeps `…encoder.layer.0.attention.self.query.bias`), else by content: constant folding stores Linear
 * weights transposed under names like `onnx::MatMul_370`, so those are found as the parameter whose base values,
 * transposed or not, equal the initializer's.
 * @throws EmbedderError MODEL_INVALID when the file is not ONNX, or an initializer with more than one value matches
 * no parameter: the graph was not exported from the base model's weights, and patching it would serve stale weights.
 */
export function patchOnnxInitializers(bytes: Uint8Array, file: string, parameters: readonly PatchParameter[]): { bytes: Uint8Array; matches: InitializerMatch[] } {
  const model = decodeModel(bytes, file);
  const byParameterName = new Map(parameters.map((parameter) => [parameter.name, parameter]));
  const matches: InitializerMatch[] = [];
  for (const initializer of model.graph?.initializer ?? []) {
    if (initializer.data_type !== ONNX_FLOAT || initializer.data_location === 1) continue;
    const name = initializer.name ?? '';
    const raw = initializer.raw_data;
    // Copies: raw_data is a view into the file and may be unaligned for a Float32Array.
    const values = raw && raw.length > 0 ? new Float32Array(new Uint8Array(raw).buffer) : Float32Array.from(initializer.float_data ?? []);
    const named = byName(name, byParameterName);
    const namedLayout = named && layoutOf(values, named);
    const match = named && namedLayout ? { parameter: named, layout: namedLayout } : findByContent(values, parameters);
    if (!match) {
      if (values.length > 1) {
        throw new EmbedderError(
          'MODEL_INVALID',
          `${file}: initializer '${name}' (${values.length} values) matches none of the base model's weights; the graph was not exported from this model's weights, so it cannot carry the fine-tuned ones`,
          { details: { file, initializer: name } },
        );
      }
      continue;
    }
    const { parameter, layout } = match;
    const [rows, columns] = parameter.shape as [number, number];
    const trained = layout === 'same' ? parameter.trained : transpose(parameter.trained, rows, columns);
    initializer.raw_data = new Uint8Array(trained.buffer.slice(trained.byteOffset, trained.byteOffset + trained.byteLength));
    initializer.float_data = [];
    matches.push({ initializer: name, parameter: parameter.name, transposed: layout === 'transposed' });
  }
  return { bytes: encodeModel(model), matches };
}

function findByContent(values: Float32Array, parameters: readonly PatchParameter[]): { parameter: PatchParameter; layout: 'same' | 'transposed' } | undefined {
  for (const parameter of parameters) {
    const layout = layoutOf(values, parameter);
    if (layout) return { parameter, layout };
  }
  return undefined;
}
