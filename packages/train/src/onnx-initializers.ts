import { EmbedderError } from '@embedder-rag/core';

/**
 * A float32 initializer of an ONNX model, located in the file's bytes: its name, dims and where its values sit.
 * Values stored as `raw_data` or packed `float_data` are both little-endian float32 runs, so an initializer can be
 * rewritten in place with new values of the same shape: the file's protobuf framing does not change.
 */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** Byte offset of the first value in the file. */
  offset: number;
  /** Number of float32 values. */
  length: number;
}

// The few field numbers of onnx.proto this reader walks (ModelProto.graph, GraphProto.initializer, TensorProto.*).
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const TENSOR_DATA_LOCATION = 14;
const ONNX_FLOAT = 1;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

interface Field {
  number: number;
  wire: number;
  /** Varint value (wire 0). */
  value: number;
  /** Payload start and end (wire 2). */
  start: number;
  end: number;
}

function invalid(file: string, why: string): EmbedderError {
  return new EmbedderError('MODEL_INVALID', `${file} is not an ONNX model this writer can patch: ${why}`, { details: { file } });
}

/** Reads a varint at `at`; returns the value (exact up to 2^53) and the next offset. */
function readVarint(bytes: Uint8Array, at: number, file: string): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw invalid(file, `truncated varint at byte ${at}`);
}

/** The fields of one protobuf message in bytes [start, end). */
function* fields(bytes: Uint8Array, start: number, end: number, file: string): Generator<Field> {
  let at = start;
  while (at < end) {
    const [key, afterKey] = readVarint(bytes, at, file);
    const number = Math.floor(key / 8);
    const wire = key % 8;
    at = afterKey;
    switch (wire) {
      case WIRE_VARINT: {
        const [value, next] = readVarint(bytes, at, file);
        yield { number, wire, value, start: at, end: next };
        at = next;
        break;
      }
      case WIRE_FIXED64:
        yield { number, wire, value: 0, start: at, end: at + 8 };
        at += 8;
        break;
      case WIRE_LENGTH: {
        const [length, next] = readVarint(bytes, at, file);
        if (next + length > end) throw invalid(file, `field ${number} at byte ${at} runs past its message`);
        yield { number, wire, value: length, start: next, end: next + length };
        at = next + length;
        break;
      }
      case WIRE_FIXED32:
        yield { number, wire, value: 0, start: at, end: at + 4 };
        at += 4;
        break;
      default:
        throw invalid(file, `unsupported wire type ${wire} at byte ${at}`);
    }
  }
  if (at !== end) throw invalid(file, 'a message runs past its end');
}

function readTensor(bytes: Uint8Array, start: number, end: number, file: string): OnnxInitializer | undefined {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let data: { offset: number; bytes: number } | undefined;
  let external = false;
  for (const field of fields(bytes, start, end, file)) {
    if (field.number === TENSOR_DIMS) {
      if (field.wire === WIRE_VARINT) dims.push(field.value);
      else {
        // Packed dims.
        for (let at = field.start; at < field.end; ) {
          const [dim, next] = readVarint(bytes, at, file);
          dims.push(dim);
          at = next;
        }
      }
    } else if (field.number === TENSOR_DATA_TYPE) dataType = field.value;
    else if (field.number === TENSOR_NAME) name = new TextDecoder().decode(bytes.subarray(field.start, field.end));
    else if ((field.number === TENSOR_RAW_DATA || field.number === TENSOR_FLOAT_DATA) && field.wire === WIRE_LENGTH) {
      data = { offset: field.start, bytes: field.end - field.start };
    } else if (field.number === TENSOR_DATA_LOCATION && field.value === 1) external = true;
  }
  if (dataType !== ONNX_FLOAT || !data || external) return undefined;
  const length = dims.reduce((product, dim) => product * dim, 1);
  if (data.bytes !== length * 4) throw invalid(file, `initializer '${name}' holds ${data.bytes} bytes for ${length} floats`);
  return { name, dims, offset: data.offset, length };
}

/**
 * The float32 initializers of an ONNX model stored inside the file (external data and other dtypes are left out),
 * in graph order.
 * @throws EmbedderError MODEL_INVALID when the bytes are not a readable ONNX ModelProto.
 */
export function listOnnxInitializers(bytes: Uint8Array, file: string): OnnxInitializer[] {
  const initializers: OnnxInitializer[] = [];
  let graphs = 0;
  for (const field of fields(bytes, 0, bytes.length, file)) {
    if (field.number !== MODEL_GRAPH || field.wire !== WIRE_LENGTH) continue;
    graphs++;
    for (const entry of fields(bytes, field.start, field.end, file)) {
      if (entry.number !== GRAPH_INITIALIZER || entry.wire !== WIRE_LENGTH) continue;
      const tensor = readTensor(bytes, entry.start, entry.end, file);
      if (tensor) initializers.push(tensor);
    }
  }
  if (graphs !== 1) throw invalid(file, `expected one graph, found ${graphs}`);
  return initializers;
}

/** The values of an initializer (a copy: the file's offset need not be 4-byte aligned). */
export function readOnnxInitializer(bytes: Uint8Array, initializer: OnnxInitializer): Float32Array {
  const copy = bytes.slice(initializer.offset, initializer.offset + initializer.length * 4);
  return new Float32Array(copy.buffer, 0, initializer.length);
}

/** Overwrites an initializer's values in place (same count, little-endian float32). */
export function writeOnnxInitializer(bytes: Uint8Array, initializer: OnnxInitializer, values: Float32Array): void {
  if (values.length !== initializer.length) {
    throw new EmbedderError('MODEL_INVALID', `initializer '${initializer.name}' holds ${initializer.length} values, got ${values.length}`);
  }
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), initializer.offset);
}
