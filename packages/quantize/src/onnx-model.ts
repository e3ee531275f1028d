import { EmbedderError } from '@embedder-rag/core';
import type protobuf from 'protobufjs';
import { AttributeType, DataType, ModelProtoType, type AttributeProto, type Int64, type ModelProto, type NodeProto, type TensorProto } from './onnx-schema';

/** Reads an ONNX file's bytes. Throws MODEL_INVALID when they are not an ONNX model (truncated, not protobuf, no graph). */
export function decodeModel(bytes: Uint8Array, source = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = ModelProtoType.decode(bytes) as unknown as ModelProto;
  } catch (error) {
    throw new EmbedderError('MODEL_INVALID', `${source} is not a readable ONNX file: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      details: { source, reason: 'corrupt' },
    });
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0 || !model.opset_import) {
    throw new EmbedderError('MODEL_INVALID', `${source} is not an ONNX model (no graph or no opset)`, { details: { source, reason: 'corrupt' } });
  }
  return model;
}

/** Serialises a model to ONNX bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return ModelProtoType.encode(model as unknown as protobuf.Message).finish();
}

export function toNumber(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber ? value.toNumber() : value.low + value.high * 2 ** 32;
}

/** The float32 values of a tensor (raw_data or float_data). */
export function floatValues(tensor: TensorProto): Float32Array {
  if (tensor.raw_data && tensor.raw_data.length > 0) {
    const raw = tensor.raw_data;
    // Copy: raw_data is a view into the file buffer and may be unaligned for Float32Array.
    return new Float32Array(new Uint8Array(raw).buffer, 0, raw.length / 4);
  }
  return Float32Array.from(tensor.float_data ?? []);
}

export function dims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(toNumber);
}

export function floatTensor(name: string, shape: readonly number[], values: Float32Array): TensorProto {
  return { name, dims: [...shape], data_type: DataType.FLOAT, raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function int8Tensor(name: string, shape: readonly number[], values: Int8Array): TensorProto {
  return { name, dims: [...shape], data_type: DataType.INT8, raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function uint8Tensor(name: string, shape: readonly number[], values: Uint8Array): TensorProto {
  return { name, dims: [...shape], data_type: DataType.UINT8, raw_data: values };
}

export function int64Tensor(name: string, shape: readonly number[], values: readonly number[]): TensorProto {
  const data = BigInt64Array.from(values.map((value) => BigInt(value)));
  return { name, dims: [...shape], data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) };
}

export function intsAttribute(name: string, values: readonly number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints: [...values] };
}

export function intAttribute(name: string, value: number): AttributeProto {
  return { name, type: AttributeType.INT, i: value };
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attribute: AttributeProto[] = []): NodeProto {
  return { op_type: opType, input: [...inputs], output: [...outputs], name, ...(attribute.length > 0 ? { attribute } : {}) };
}
