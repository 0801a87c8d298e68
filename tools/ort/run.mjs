// ONNX Runtime (CPU, npm onnxruntime-node) as an oracle nobody here wrote: runs a model on
// deterministic inputs and writes the inputs and every graph output as serialized ONNX TensorProtos,
// which bitsim reads with sim::read_onnx_tensor.
//
//   node tools/ort/run.mjs --model M.onnx --out DIR [--batch N] [--seed S] [--dims D1,D2,...]
//                          [--low L] [--high H] [--threads T]
//
// DIR/input_0.pb: the graph input, [N, ...] in the model's own layout (NHWC stays NHWC); its values
// are uniform in [L, H) (default [0, 1)) from a counter-based hash of (S, index), so they depend on
// nothing but the seed. --dims gives the dimensions after the batch where the model leaves them
// symbolic (all of them, in the model's layout). DIR/output_K.pb: the K-th graph output, in graph
// order; a model whose batch dimension is fixed runs that many images at a time (the outputs are
// joined along their first dimension). Prints one line per tensor written. Exit 0 on success, 1 on a usage or model error, 3 when
// onnxruntime-node cannot be loaded (not installed: run tools/ort/install).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function usage(message) {
  process.stderr.write(`run.mjs: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const args = { batch: 1, seed: 0, low: 0, high: 1, threads: 1, dims: null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) usage(`${key} needs a value`);
    switch (key) {
      case '--model': args.model = value; break;
      case '--out': args.out = value; break;
      case '--batch': args.batch = Number.parseInt(value, 10); break;
      case '--seed': args.seed = Number.parseInt(value, 10); break;
      case '--low': args.low = Number(value); break;
      case '--high': args.high = Number(value); break;
      case '--threads': args.threads = Number.parseInt(value, 10); break;
      case '--dims': args.dims = value.split(',').map((d) => Number.parseInt(d, 10)); break;
      default: usage(`unknown option ${key}`);
    }
  }
  if (!args.model || !args.out) usage('--model and --out are required');
  if (!(args.batch >= 1)) usage('--batch: expected a positive integer');
  if (!(args.seed >= 0) || args.seed > 0xffffffff) usage('--seed: expected 0 .. 2^32 - 1');
  if (!(args.threads >= 1)) usage('--threads: expected a positive integer');
  if (!(args.low < args.high)) usage('--low must be below --high');
  if (args.dims && args.dims.some((d) => !(d >= 1))) usage('--dims: expected positive integers');
  return args;
}

// A 32-bit mix of (seed, index) (a murmur3-style finalizer over both): value i does not depend on
// how many values came before it, so any batch holds the same first images.
function mix(seed, index) {
  let h = (Math.imul(index, 0x9e3779b1) ^ Math.imul(seed + 0x632be5ab, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function inputValues(count, seed, low, high) {
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = low + (high - low) * ((mix(seed, i) >>> 8) / 16777216);
  return data;
}

// Protobuf wire format of onnx.TensorProto: dims = 1 (int64, one varint each), data_type = 2
// (FLOAT = 1), name = 8 (string), raw_data = 9 (little-endian float32).
function varint(value) {
  const bytes = [];
  let v = BigInt(value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    bytes.push(b);
  } while (v !== 0n);
  return bytes;
}

function tensorProto(name, dims, data) {
  const nameBytes = Buffer.from(name, 'utf8');
  const raw = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; ++i) raw.writeFloatLE(data[i], i * 4);
  const head = [];
  for (const d of dims) head.push(0x08, ...varint(d));
  head.push(0x10, 1);
  head.push(0x42, ...varint(nameBytes.length));
  return Buffer.concat([Buffer.from(head), nameBytes, Buffer.from([0x4a, ...varint(raw.length)]), raw]);
}

async function loadOrt() {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    process.stderr.write(`run.mjs: cannot load onnxruntime-node (${e.message.split('\n')[0]}); run tools/ort/install\n`);
    process.exit(3);
  }
}

const args = parseArgs(process.argv.slice(2));
const ort = await loadOrt();
let session;
try {
  session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
} catch (e) {
  usage(`${args.model}: ${e.message}`);
}
if (session.inputNames.length !== 1) usage(`${args.model}: expected one graph input, got ${session.inputNames.length}`);
const inputName = session.inputNames[0];
const meta = session.inputMetadata.find((m) => m.name === inputName) ?? session.inputMetadata[0];
if (meta.type !== 'float32') usage(`input '${inputName}' is ${meta.type}, expected float32`);
const rest = meta.shape.slice(1);
let dims;
if (args.dims) {
  if (args.dims.length !== rest.length) usage(`--dims: the input has ${rest.length} dimensions after the batch`);
  rest.forEach((d, i) => {
    if (typeof d === 'number' && d !== args.dims[i]) usage(`--dims: dimension ${i + 1} is ${d}, not ${args.dims[i]}`);
  });
  dims = [args.batch, ...args.dims];
} else {
  if (rest.some((d) => typeof d !== 'number' || d < 1))
    usage(`input '${inputName}' has symbolic dimensions [${meta.shape.join(', ')}]: give --dims`);
  dims = [args.batch, ...rest];
}
const count = dims.reduce((a, b) => a * b, 1);
const input = new ort.Tensor('float32', inputValues(count, args.seed, args.low, args.high), dims);
// A model whose batch dimension is fixed (often 1) runs slice by slice; the outputs are concatenated
// along their first dimension.
const slice = typeof meta.shape[0] === 'number' ? meta.shape[0] : args.batch;
if (args.batch % slice !== 0) usage(`--batch: the model's batch dimension is fixed at ${slice}`);
const perImage = count / args.batch;
const outputs = session.outputNames.map(() => ({ dims: null, parts: [] }));
for (let start = 0; start < args.batch; start += slice) {
  const part = new ort.Tensor('float32', input.data.subarray(start * perImage, (start + slice) * perImage),
                              [slice, ...dims.slice(1)]);
  let results;
  try {
    results = await session.run({ [inputName]: part });
  } catch (e) {
    usage(`${args.model}: ${e.message}`);
  }
  session.outputNames.forEach((name, k) => {
    const t = results[name];
    if (t.type !== 'float32') usage(`output '${name}' is ${t.type}, expected float32`);
    outputs[k].dims = [...t.dims];
    outputs[k].parts.push(t.data);
  });
}
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'input_0.pb'), tensorProto(inputName, dims, input.data));
console.log(`input_0.pb ${inputName} [${dims.join(', ')}]`);
session.outputNames.forEach((name, k) => {
  const { dims: outDims, parts } = outputs[k];
  if (parts.length > 1) outDims[0] *= parts.length;
  const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
  writeFileSync(join(args.out, `output_${k}.pb`), tensorProto(name, outDims, data));
  console.log(`output_${k}.pb ${name} [${outDims.join(', ')}]`);
});
