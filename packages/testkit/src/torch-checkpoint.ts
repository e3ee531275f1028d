import { writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/** A float32 tensor to store in a checkpoint. */
export interface CheckpointTensor {
  shape: readonly number[];
  values: Float32Array;
}

const ascii = (text: string): number[] => [...new TextEncoder().encode(text)];

/** Pickle protocol 2 as torch.save writes a state dict: OrderedDict of name → _rebuild_tensor_v2(storage, …). */
function statePickle(names: readonly string[], tensors: readonly CheckpointTensor[]): Uint8Array {
  const out: number[] = [0x80, 2];
  const global = (module: string, name: string) => out.push(0x63, ...ascii(`${module}\n${name}\n`));
  const text = (value: string) => {
    const bytes = ascii(value);
    out.push(0x58, ...new Uint8Array(Uint32Array.of(bytes.length).buffer), ...bytes);
  };
  const int = (value: number) => out.push(0x4a, ...new Uint8Array(Int32Array.of(value).buffer));
  const tuple = (values: readonly number[]) => {
    out.push(0x28);
    values.forEach(int);
    out.push(0x74);
  };
  const orderedDict = () => {
    global('collections', 'OrderedDict');
    out.push(0x29, 0x52);
  };
  orderedDict();
  out.push(0x28);
  tensors.forEach((tensor, index) => {
    text(names[index]!);
    global('torch._utils', '_rebuild_tensor_v2');
    out.push(0x28);
    // persistent id ('storage', FloatStorage, key, location, numel)
    out.push(0x28);
    text('storage');
    global('torch', 'FloatStorage');
    text(String(index));
    text('cpu');
    int(tensor.values.length);
    out.push(0x74, 0x51);
    int(0);
    tuple(tensor.shape);
    tuple(tensor.shape.map((_, axis) => tensor.shape.slice(axis + 1).reduce((product, size) => product * size, 1)));
    out.push(0x89);
    orderedDict();
    out.push(0x74, 0x52);
  });
  out.push(0x75, 0x2e);
  return Uint8Array.from(out);
}

/** A zip archive of stored (uncompressed) entries, the container torch.save writes. */
function storedZip(entries: readonly [string, Uint8Array][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.byteLength, 18);
    local.writeUInt32LE(data.byteLength, 22);
    local.writeUInt16LE(nameBytes.byteLength, 26);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(0x21, 14);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(data.byteLength, 20);
    record.writeUInt32LE(data.byteLength, 24);
    record.writeUInt16LE(nameBytes.byteLength, 28);
    record.writeUInt32LE(offset, 42);
    parts.push(local, nameBytes, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    central.push(record, nameBytes);
    offset += local.byteLength + nameBytes.byteLength + data.byteLength;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/**
 * Writes float32 tensors as a PyTorch zip checkpoint (the `pytorch_model.bin` torch.save makes: `archive/data.pkl`
 * + one storage per tensor), for tests that need a model's weights in the .bin format under chosen names.
 */
export function writeTorchCheckpoint(file: string, tensors: ReadonlyMap<string, CheckpointTensor>): void {
  const names = [...tensors.keys()];
  const values = [...tensors.values()];
  const entries: [string, Uint8Array][] = [
    ['archive/data.pkl', statePickle(names, values)],
    ['archive/byteorder', new TextEncoder().encode('little')],
    ...values.map((tensor, index): [string, Uint8Array] => [`archive/data/${index}`, new Uint8Array(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength)]),
    ['archive/version', new TextEncoder().encode('3\n')],
  ];
  writeFileSync(file, storedZip(entries));
}
