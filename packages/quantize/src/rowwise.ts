import { EmbedderError } from '@embedder-rag/core';
import { AttributeType, DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './onnx-schema';
import { dims, floatTensor, floatValues, int64Tensor, int8Tensor, intAttribute, intsAttribute, node, toNumber, uint8Tensor } from './onnx-model';

/** How activations are turned into uint8 in the graph (both give the same bits; they differ in operator count). */
export type QuantizeOps = 'quantize-linear' | 'elementwise';

/**
 * How int32 sums become float: `ort-fused`, onnxruntime's MatMulIntegerToFloat (com.microsoft domain, column
 * scales inside the GEMM) then the row scale; or `standard`, MatMulInteger -> Cast -> row scale -> column scale,
 * standard ONNX only. Same values.
 */
export type Dequantize = 'ort-fused' | 'standard';

const MS_DOMAIN = 'com.microsoft';

export interface RowwiseOptions {
  /**
   * Per input channel absolute maxima of each quantised MatMul input (by tensor name), from {@link calibrate}. When
   * given, activations are divided by s = amax_x^alpha / amax_w^(1 - alpha) per channel and the weights' rows
   * multiplied by s (SmoothQuant-style): static, so still independent of the batch.
   */
  channelAbsMax?: ReadonlyMap<string, Float32Array>;
  /** Smoothing strength. @default 0.5 */
  alpha?: number;
  /**
   * Smooth the widest activations too (the feed-forward's inner one, after GELU/ReLU). Off by default: on
   * all-MiniLM-L6-v2 smoothing it lowered the worst cosine to fp32 from 0.9929 to 0.9857 and its multiply is the
   * widest one (it cost 2-3% of q8 time).
   */
  smoothWidest?: boolean;
  /** @default 'quantize-linear' */
  quantizeOps?: QuantizeOps;
  /** @default 'ort-fused' */
  dequantize?: Dequantize;
  /** Free text recorded in the metadata (e.g. which sentences calibrated it). */
  calibration?: string;
  /**
   * Store large embedding tables (a Gather's constant fp32 table of at least {@link MIN_EMBEDDING_ROWS} rows) as int8
   * with one scale per row, dequantised after the lookup. On by default: all-MiniLM-L6-v2's word embeddings are 47 of
   * the file's 58 MB, and reading them was most of the row-wise session's extra start-up over the per-tensor file.
   */
  quantizeEmbeddings?: boolean;
}

/** Embedding tables with fewer rows (position and token-type tables) stay fp32: they are small. */
export const MIN_EMBEDDING_ROWS = 4096;

export interface RowwiseReport {
  /** MatMuls rewritten (constant 2-D fp32 weight). */
  quantized: number;
  /** MatMuls left in fp32 (attention scores: no constant weight). */
  keptFp32: number;
  /** Distinct activations quantised (MatMuls sharing an input share its quantisation). */
  activations: number;
  /** Activations divided by a static smoothing scale. */
  smoothed: number;
  /** Embedding tables stored as per-row int8. */
  embeddings: number;
}

/** The metadata_props key the quantiser writes. */
export const QUANTIZATION_METADATA_KEY = 'embedder.quantization';

const QUANTIZED_OPS = new Set(['MatMulInteger', 'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'MatMulNBits']);

export interface Target {
  matmul: NodeProto;
  weight: TensorProto;
  /** The Add that adds a constant [N] bias to the MatMul's output, folded into the rewrite. */
  biasAdd?: NodeProto;
  bias?: TensorProto;
}

function defaultOpset(model: ModelProto): number {
  const entry = (model.opset_import ?? []).find((opset) => !opset.domain || opset.domain === 'ai.onnx');
  return toNumber(entry?.version);
}

/**
 * The Linear layers quantizeRowwise would rewrite. Throws UNSUPPORTED when the model is already quantised, has
 * non-fp32 weights or external data, or has no MatMul with a constant 2-D weight.
 */
export function findQuantizableMatMuls(model: ModelProto): { targets: Target[]; keptFp32: number } {
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  for (const candidate of nodes) {
    if (QUANTIZED_OPS.has(candidate.op_type ?? '')) {
      throw new EmbedderError('UNSUPPORTED', `the model is already quantised (it has ${candidate.op_type} nodes); quantise its fp32 file`, {
        details: { reason: 'not-fp32', op: candidate.op_type },
      });
    }
  }
  const consumers = new Map<string, NodeProto[]>();
  for (const candidate of nodes) {
    for (const input of candidate.input ?? []) {
      if (!consumers.has(input)) consumers.set(input, []);
      consumers.get(input)!.push(candidate);
    }
  }
  const graphOutputs = new Set((graph.output ?? []).map((output) => output.name));

  const targets: Target[] = [];
  let keptFp32 = 0;
  for (const candidate of nodes) {
    if (candidate.op_type !== 'MatMul' || (candidate.domain ?? '') !== '') continue;
    const weight = initializers.get(candidate.input?.[1] ?? '');
    if (!weight || dims(weight).length !== 2) {
      keptFp32 += 1;
      continue;
    }
    if (weight.data_type !== DataType.FLOAT) {
      throw new EmbedderError('UNSUPPORTED', `MatMul weight ${weight.name} is not float32 (ONNX data type ${weight.data_type}); quantise the fp32 model`, {
        details: { reason: 'not-fp32', tensor: weight.name, dataType: weight.data_type },
      });
    }
    if (weight.data_location === 1) {
      throw new EmbedderError('UNSUPPORTED', `MatMul weight ${weight.name} is stored in an external data file, which the quantiser does not read yet`, {
        details: { reason: 'external-data', tensor: weight.name },
      });
    }
    const target: Target = { matmul: candidate, weight };
    const output = candidate.output![0]!;
    const users = consumers.get(output) ?? [];
    const add = users[0];
    if (users.length === 1 && add?.op_type === 'Add' && !graphOutputs.has(output)) {
      const other = add.input![0] === output ? add.input![1] : add.input![0];
      const bias = initializers.get(other ?? '');
      if (bias && bias.data_type === DataType.FLOAT && dims(bias).length === 1 && dims(bias)[0] === dims(weight)[1]) {
        target.biasAdd = add;
        target.bias = bias;
      }
    }
    targets.push(target);
  }
  if (targets.length === 0) {
    throw new EmbedderError('UNSUPPORTED', 'the model has no MatMul with a constant 2-D weight to quantise', { details: { reason: 'no-matmul' } });
  }

  return { targets, keptFp32 };
}

/**
 * Rewrites every MatMul with a constant 2-D fp32 weight (a Linear layer) into per-row int8: the row's max |x| gives
 * its scale; x is quantised to uint8 (zero point 128) with that scale, multiplied with per-column int8 weights by
 * MatMulInteger (exact int32 sums), and scaled back by row scale x column scale (+ bias). No scale depends on another
 * row, so a text's vector does not depend on its batch neighbours. MatMuls of two activations (attention scores),
 * LayerNorm, Softmax and GELU stay fp32. Returns a new model; the input is not modified.
 */
export function quantizeRowwise(model: ModelProto, options: RowwiseOptions = {}): { model: ModelProto; report: RowwiseReport } {
  const graph = model.graph!;
  const nodes = graph.node ?? [];
  const { targets, keptFp32 } = findQuantizableMatMuls(model);

  const groups = new Map<string, Target[]>();
  for (const target of targets) {
    const input = target.matmul.input![0]!;
    if (!groups.has(input)) groups.set(input, []);
    groups.get(input)!.push(target);
  }

  const opset = defaultOpset(model);
  const alpha = options.alpha ?? 0.5;
  // Per-axis QuantizeLinear needs opset 13.
  const quantizeOps = opset < 13 ? 'elementwise' : (options.quantizeOps ?? 'quantize-linear');
  const dequantize = options.dequantize ?? 'ort-fused';
  const newInitializers: TensorProto[] = [];
  const removedInitializers = new Set<string>();
  const replaced = new Map<NodeProto, NodeProto[]>();
  const skipped = new Set<NodeProto>();
  const shared = {
    inv127: '/rowwise/inv127',
    tiny: '/rowwise/tiny',
    zeroPoint: '/rowwise/zero_point',
    offset: '/rowwise/offset',
    lastAxis: '/rowwise/last_axis',
    flat: '/rowwise/flat',
    one: '/rowwise/one',
  };
  const sharedTensors = [
    floatTensor(shared.inv127, [], Float32Array.of(1 / 127)),
    // Keeps an all-zero row's scale positive (its values all quantise to the zero point).
    floatTensor(shared.tiny, [], Float32Array.of(1e-30)),
    uint8Tensor(shared.zeroPoint, [], Uint8Array.of(128)),
    floatTensor(shared.offset, [], Float32Array.of(128)),
    int64Tensor(shared.lastAxis, [1], [-1]),
    int64Tensor(shared.flat, [1], [-1]),
    floatTensor(shared.one, [], Float32Array.of(1)),
  ];

  const widths = [...groups.values()].map((members) => dims(members[0]!.weight)[0]!);
  const widest = Math.max(...widths);
  const skipWidth = !options.smoothWidest && new Set(widths).size > 1 ? widest : -1;
  let smoothedCount = 0;
  let groupIndex = 0;
  for (const [input, members] of groups) {
    const prefix = `/rowwise/${groupIndex++}`;
    const k = dims(members[0]!.weight)[0]!;
    const emitted: NodeProto[] = [];
    const name = (suffix: string): string => `${prefix}/${suffix}`;

    // Static smoothing: one s per input channel shared by every MatMul that reads this activation.
    let smoothing: Float32Array | undefined;
    const activationMax = options.channelAbsMax?.get(input);
    if (activationMax && activationMax.length === k && k !== skipWidth) {
      smoothedCount += 1;
      const weightMax = new Float32Array(k);
      for (const member of members) {
        const values = floatValues(member.weight);
        const n = dims(member.weight)[1]!;
        for (let row = 0; row < k; row += 1) {
          let max = weightMax[row]!;
          for (let col = 0; col < n; col += 1) max = Math.max(max, Math.abs(values[row * n + col]!));
          weightMax[row] = max;
        }
      }
      smoothing = new Float32Array(k);
      const inverse = new Float32Array(k);
      for (let row = 0; row < k; row += 1) {
        const ax = activationMax[row]!;
        const aw = weightMax[row]!;
        const s = ax > 0 && aw > 0 ? Math.min(1e4, Math.max(1e-4, ax ** alpha / aw ** (1 - alpha))) : 1;
        smoothing[row] = s;
        inverse[row] = 1 / s;
      }
      newInitializers.push(floatTensor(name('inv_smooth'), [k], inverse));
      emitted.push(node('Mul', [input, name('inv_smooth')], [name('smoothed')], name('Smooth')));
    }
    const x = smoothing ? name('smoothed') : input;

    emitted.push(node('Abs', [x], [name('abs')], name('Abs')));
    if (opset >= 18) {
      emitted.push(node('ReduceMax', [name('abs'), shared.lastAxis], [name('row_max')], name('RowMax'), [intAttribute('keepdims', 1)]));
    } else {
      emitted.push(node('ReduceMax', [name('abs')], [name('row_max')], name('RowMax'), [intsAttribute('axes', [-1]), intAttribute('keepdims', 1)]));
    }
    emitted.push(node('Mul', [name('row_max'), shared.inv127], [name('row_scale_raw')], name('RowScaleRaw')));
    emitted.push(node('Max', [name('row_scale_raw'), shared.tiny], [name('row_scale')], name('RowScale')));
    if (quantizeOps === 'quantize-linear') {
      // QuantizeLinear takes a per-axis scale only along one axis: quantise the [rows x K] view, one scale per row.
      newInitializers.push(int64Tensor(name('rows_shape'), [2], [-1, k]));
      emitted.push(node('Reshape', [x, name('rows_shape')], [name('rows')], name('Rows')));
      emitted.push(node('Reshape', [name('row_scale'), shared.flat], [name('row_scale_flat')], name('RowScaleFlat')));
      // onnxruntime wants a per-axis zero point as long as the scale (it rejects a scalar one there): 128 per row.
      emitted.push(node('Shape', [name('row_scale_flat')], [name('row_count')], name('RowCount')));
      emitted.push(
        node('ConstantOfShape', [name('row_count')], [name('row_zero_point')], name('RowZeroPoint'), [
          { name: 'value', type: AttributeType.TENSOR, t: uint8Tensor('', [1], Uint8Array.of(128)) },
        ]),
      );
      emitted.push(node('QuantizeLinear', [name('rows'), name('row_scale_flat'), name('row_zero_point')], [name('rows_q')], name('Quantize'), [intAttribute('axis', 0)]));
      emitted.push(node('Shape', [x], [name('shape')], name('Shape')));
      emitted.push(node('Reshape', [name('rows_q'), name('shape')], [name('q')], name('Unflatten')));
    } else {
      emitted.push(node('Div', [x, name('row_scale')], [name('scaled')], name('Scale')));
      emitted.push(node('Round', [name('scaled')], [name('rounded')], name('Round')));
      emitted.push(node('Add', [name('rounded'), shared.offset], [name('shifted')], name('Shift')));
      emitted.push(node('Cast', [name('shifted')], [name('q')], name('ToUint8'), [intAttribute('to', DataType.UINT8)]));
    }

    members.forEach((member, memberIndex) => {
      const [, n] = dims(member.weight) as [number, number];
      const values = floatValues(member.weight);
      const columnScale = new Float32Array(n);
      for (let row = 0; row < k; row += 1) {
        const s = smoothing ? smoothing[row]! : 1;
        for (let col = 0; col < n; col += 1) columnScale[col] = Math.max(columnScale[col]!, Math.abs(values[row * n + col]! * s));
      }
      for (let col = 0; col < n; col += 1) columnScale[col] = columnScale[col]! > 0 ? columnScale[col]! / 127 : 1;
      const quantized = new Int8Array(k * n);
      for (let row = 0; row < k; row += 1) {
        const s = smoothing ? smoothing[row]! : 1;
        for (let col = 0; col < n; col += 1) {
          const q = Math.round((values[row * n + col]! * s) / columnScale[col]!);
          quantized[row * n + col] = Math.max(-127, Math.min(127, q));
        }
      }
      const m = (suffix: string): string => `${prefix}/${memberIndex}/${suffix}`;
      newInitializers.push(int8Tensor(m('weight_q'), [k, n], quantized), floatTensor(m('column_scale'), [n], columnScale));
      removedInitializers.add(member.weight.name!);
      const output = member.biasAdd ? member.biasAdd.output![0]! : member.matmul.output![0]!;
      const scaledName = member.bias ? m('scaled') : output;
      const rewrite: NodeProto[] = [];
      if (dequantize === 'ort-fused') {
        // onnxruntime's MatMulIntegerToFloat applies the per-column scales inside the int8 GEMM's output stage. Its
        // A scale must stay a scalar (1 here): given the per-row scale it returned wrong vectors (cosine 0.64 to
        // fp32, onnxruntime-node 1.30), so the row scale is a multiply of its own.
        rewrite.push(
          { ...node('MatMulIntegerToFloat', [name('q'), m('weight_q'), shared.one, m('column_scale'), shared.zeroPoint], [m('column_scaled')], m('MatMulIntegerToFloat')), domain: MS_DOMAIN },
          node('Mul', [m('column_scaled'), name('row_scale')], [scaledName], m('DequantizeRows')),
        );
      } else {
        rewrite.push(
          node('MatMulInteger', [name('q'), m('weight_q'), shared.zeroPoint], [m('int32')], m('MatMulInteger')),
          node('Cast', [m('int32')], [m('float')], m('Cast'), [intAttribute('to', DataType.FLOAT)]),
          node('Mul', [m('float'), name('row_scale')], [m('row_scaled')], m('DequantizeRows')),
          node('Mul', [m('row_scaled'), m('column_scale')], [scaledName], m('DequantizeColumns')),
        );
      }
      // Bias second, as exported: onnxruntime then fuses it into what follows (BiasGelu, SkipLayerNormalization).
      if (member.bias) rewrite.push(node('Add', [scaledName, member.bias.name!], [output], m('Bias')));
      replaced.set(member.matmul, memberIndex === 0 ? [...emitted, ...rewrite] : rewrite);
      if (member.biasAdd) skipped.add(member.biasAdd);
    });
  }

  const embeddings = options.quantizeEmbeddings === false ? 0 : quantizeEmbeddingTables(graph, replaced, newInitializers, removedInitializers);

  const rewritten: NodeProto[] = [];
  for (const original of nodes) {
    if (skipped.has(original)) continue;
    rewritten.push(...(replaced.get(original) ?? [original]));
  }
  const stillUsed = new Set(rewritten.flatMap((each) => each.input ?? []));
  const produced = new Set(rewritten.flatMap((each) => each.output ?? []));
  const newGraph: GraphProto = {
    ...graph,
    node: rewritten,
    initializer: [
      ...(graph.initializer ?? []).filter((tensor) => !removedInitializers.has(tensor.name!) || stillUsed.has(tensor.name!)),
      ...sharedTensors.filter((tensor) => stillUsed.has(tensor.name!)),
      ...newInitializers,
    ],
    value_info: (graph.value_info ?? []).filter((info) => produced.has(info.name!)),
  };
  const report: RowwiseReport = { quantized: targets.length, keptFp32, activations: groups.size, smoothed: smoothedCount, embeddings };
  const metadata = {
    method: 'rowwise-int8',
    activations: 'per row: scale max|x|/127, uint8 zero point 128',
    weights: 'per column: symmetric int8, scale max|w|/127',
    embeddings: embeddings > 0 ? `${embeddings} table(s) per row: symmetric int8, scale max|row|/127` : 'fp32',
    smoothing: report.smoothed > 0 ? { alpha, activations: report.smoothed, calibration: options.calibration ?? 'unspecified' } : 'none',
    quantizeOps,
    dequantize,
    quantized: report.quantized,
    keptFp32: report.keptFp32,
    tool: '@embedder-rag/quantize',
  };
  const opsets = model.opset_import ?? [];
  return {
    model: {
      ...model,
      opset_import: dequantize === 'ort-fused' && !opsets.some((entry) => entry.domain === MS_DOMAIN) ? [...opsets, { domain: MS_DOMAIN, version: 1 }] : opsets,
      graph: newGraph,
      metadata_props: [...(model.metadata_props ?? []).filter((entry) => entry.key !== QUANTIZATION_METADATA_KEY), { key: QUANTIZATION_METADATA_KEY, value: JSON.stringify(metadata) }],
    },
    report,
  };
}

/**
 * Rewrites each Gather from a large constant fp32 table [rows, width] into a lookup of int8 rows and of their scales,
 * then Cast and Mul: every row's scale is static, so the vectors stay independent of the batch. Returns how many
 * tables were rewritten.
 */
function quantizeEmbeddingTables(graph: GraphProto, replaced: Map<NodeProto, NodeProto[]>, newInitializers: TensorProto[], removedInitializers: Set<string>): number {
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor]));
  const tables = new Map<string, { table: string; scales: string }>();
  let index = 0;
  for (const gather of graph.node ?? []) {
    if (gather.op_type !== 'Gather' || (gather.domain ?? '') !== '' || replaced.has(gather)) continue;
    const axis = gather.attribute?.find((attribute) => attribute.name === 'axis');
    if (axis && toNumber(axis.i) !== 0) continue;
    const source = initializers.get(gather.input?.[0] ?? '');
    if (!source || source.data_type !== DataType.FLOAT || source.data_location === 1) continue;
    const [rows, width] = dims(source) as [number, number];
    if (dims(source).length !== 2 || rows < MIN_EMBEDDING_ROWS) continue;
    let names = tables.get(source.name!);
    if (!names) {
      const prefix = `/rowwise/embedding/${index++}`;
      names = { table: `${prefix}/table_q`, scales: `${prefix}/row_scale` };
      const values = floatValues(source);
      const quantized = new Int8Array(rows * width);
      const scales = new Float32Array(rows);
      for (let row = 0; row < rows; row += 1) {
        let max = 0;
        for (let col = 0; col < width; col += 1) max = Math.max(max, Math.abs(values[row * width + col]!));
        const scale = max > 0 ? max / 127 : 1;
        scales[row] = scale;
        for (let col = 0; col < width; col += 1) quantized[row * width + col] = Math.max(-127, Math.min(127, Math.round(values[row * width + col]! / scale)));
      }
      newInitializers.push(int8Tensor(names.table, [rows, width], quantized), floatTensor(names.scales, [rows, 1], scales));
      removedInitializers.add(source.name!);
      tables.set(source.name!, names);
    }
    const ids = gather.input![1]!;
    const output = gather.output![0]!;
    const name = `${names.table}/${gather.name ?? output}`;
    replaced.set(gather, [
      node('Gather', [names.table, ids], [`${name}/rows_q`], `${name}/Gather`),
      node('Gather', [names.scales, ids], [`${name}/scales`], `${name}/GatherScales`),
      node('Cast', [`${name}/rows_q`], [`${name}/rows`], `${name}/Cast`, [intAttribute('to', DataType.FLOAT)]),
      node('Mul', [`${name}/rows`, `${name}/scales`], [output], `${name}/Dequantize`),
    ]);
  }
  return tables.size;
}
