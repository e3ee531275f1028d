export { DTYPE_BYTES, FLOAT_DTYPES, halfToFloat, isWeightDtype, toFloat32, type WeightDtype } from './dtype';
export { WeightSet, elementCount, formatShape, type TensorEntry, type TensorInfo, type WeightFormat } from './weight-set';
export { readSafetensors } from './safetensors';
export { writeSafetensors, float32Tensor, type TensorToWrite } from './safetensors-write';
export { readTorchBin } from './torch-bin';
export { unpickle, PickleDict, type PickleCallable, type UnpickleHooks } from './pickle';
export { parameterNameCandidates, findParameter, readParameter } from './parameter-names';
export { openWeights, openModelWeights, DEFAULT_WEIGHT_FILES } from './open';
export { loadDenseLayer, loadDenseLayers } from './dense';
