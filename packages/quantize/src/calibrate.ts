import { EmbedderError, type TokenizedBatch } from '@embedder-rag/core';
import type * as Ort from 'onnxruntime-node';
import { DataType, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-schema';
import { dims, encodeModel, int64Tensor, intAttribute, intsAttribute, node } from './onnx-model';

/** Names of the activations that {@link quantizeRowwise} would quantise (inputs of MatMuls with a constant 2-D weight). */
export function quantizableInputs(model: ModelProto): Map<string, number> {
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const inputs = new Map<string, number>();
  for (const candidate of graph.node ?? []) {
    if (candidate.op_type !== 'MatMul' || (candidate.domain ?? '') !== '') continue;
    const weight = initializers.get(candidate.input?.[1] ?? '');
    if (weight && dims(weight).length === 2 && weight.data_type === DataType.FLOAT) inputs.set(candidate.input![0]!, dims(weight)[0]!);
  }
  return inputs;
}

/**
 * The model with one extra output per quantisable activation: its per-channel max |x| over every row, [K]. Running
 * it on calibration text gives what the smoothing needs without keeping the activations.
 */
export function calibrationModel(model: ModelProto): { model: ModelProto; outputs: Map<string, string> } {
  const graph = model.graph!;
  const extraNodes: NodeProto[] = [];
  const extraOutputs: ValueInfoProto[] = [];
  const extraInitializers: TensorProto[] = [];
  const outputs = new Map<string, string>();
  const opset = Number((model.opset_import ?? []).find((entry) => !entry.domain)?.version ?? 0);
  if (opset >= 18) extraInitializers.push(int64Tensor('/calibration/axis0', [1], [0]));
  let index = 0;
  for (const [input, k] of quantizableInputs(model)) {
    const prefix = `/calibration/${index++}`;
    extraInitializers.push(int64Tensor(`${prefix}/rows_shape`, [2], [-1, k]));
    extraNodes.push(
      node('Abs', [input], [`${prefix}/abs`], `${prefix}/Abs`),
      node('Reshape', [`${prefix}/abs`, `${prefix}/rows_shape`], [`${prefix}/rows`], `${prefix}/Rows`),
      opset >= 18
        ? node('ReduceMax', [`${prefix}/rows`, '/calibration/axis0'], [`${prefix}/channel_max`], `${prefix}/ChannelMax`, [intAttribute('keepdims', 0)])
        : node('ReduceMax', [`${prefix}/rows`], [`${prefix}/channel_max`], `${prefix}/ChannelMax`, [intsAttribute('axes', [0]), intAttribute('keepdims', 0)]),
    );
    extraOutputs.push({ name: `${prefix}/channel_max`, type: { tensor_type: { elem_type: DataType.FLOAT } } });
    outputs.set(input, `${prefix}/channel_max`);
  }
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        node: [...(graph.node ?? []), ...extraNodes],
        initializer: [...(graph.initializer ?? []), ...extraInitializers],
        output: [...(graph.output ?? []), ...extraOutputs],
      },
    },
    outputs,
  };
}

/**
 * Per input channel max |x| of every quantisable activation over the calibration batches, run in fp32 by
 * onnxruntime. Each batch should hold one text (no padding rows in the statistics).
 */
export async function calibrate(ort: typeof Ort, model: ModelProto, batches: readonly TokenizedBatch[]): Promise<Map<string, Float32Array>> {
  if (batches.length === 0) throw new EmbedderError('INVALID_INPUT', 'calibration needs at least one batch of text');
  const { model: probe, outputs } = calibrationModel(model);
  const session = await ort.InferenceSession.create(encodeModel(probe), { graphOptimizationLevel: 'basic' });
  const maxima = new Map<string, Float32Array>();
  try {
    for (const batch of batches) {
      const shape = [batch.batchSize, batch.sequenceLength];
      const all: Record<string, Ort.Tensor> = {
        input_ids: new ort.Tensor('int64', batch.inputIds, shape),
        attention_mask: new ort.Tensor('int64', batch.attentionMask, shape),
        token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, shape),
      };
      const feeds = Object.fromEntries(session.inputNames.map((name) => [name, all[name]!]));
      const result = await session.run(feeds, [...outputs.values()]);
      for (const [input, output] of outputs) {
        const values = result[output]!.data as Float32Array;
        const current = maxima.get(input);
        if (!current) maxima.set(input, Float32Array.from(values));
        else for (let i = 0; i < values.length; i += 1) current[i] = Math.max(current[i]!, values[i]!);
      }
    }
  } finally {
    await session.release();
  }
  return maxima;
}
