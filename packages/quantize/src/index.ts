export { quantizeOnnx, type QuantizeOnnxOptions } from './quantize-file';
export { decodeModel, encodeModel } from './onnx-model';
export { quantizeRowwise, QUANTIZATION_METADATA_KEY, type RowwiseOptions, type RowwiseReport, type QuantizeOps, type Dequantize } from './rowwise';
export { calibrate, calibrationModel, quantizableInputs } from './calibrate';
export type { ModelProto } from './onnx-schema';
export { createRowwiseFile, rowwiseCachePath, ROWWISE_FILE, type CreateRowwiseFileOptions } from './rowwise-file';
export { CALIBRATION_SENTENCES } from './calibration-text';
