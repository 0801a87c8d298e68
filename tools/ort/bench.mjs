// ONNX Runtime's time for the shipped Fashion-MNIST model on the same input as bitsim's
// BM_EngineFmnist256 (the first 256 test images of Debian's dataset-fashion-mnist, float32 in
// [0, 1]), CPU, 2 intra-op threads, default graph optimizations. Prints the median of 15 runs (after
// 3 warm-up runs) in ms, and images/s. tools/bench-engine runs it next to bitsim's benchmark.
// With --threads 1: one intra-op thread, and the median CPU time of the process per run (user +
// system), which a busy machine changes far less than the elapsed time.
//   node tools/ort/bench.mjs [--threads 1] [MODEL.onnx]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const oneThread = args[0] === '--threads' && args[1] === '1';
if (args[0] === '--threads' && !oneThread) throw new Error('--threads takes 1 (the default is 2)');
const model = (oneThread ? args[2] : args[0]) ?? join(root, 'workloads', 'fmnist_cnn.onnx');
const images = 256;
const idx = gunzipSync(readFileSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'));
const pixels = 28 * 28;
const data = new Float32Array(images * pixels);
for (let i = 0; i < data.length; ++i) data[i] = idx[16 + i] / 255;

const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: oneThread ? 1 : 2,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [images, 1, 28, 28]) };
for (let i = 0; i < 3; ++i) await session.run(feeds);
const times = [];
for (let i = 0; i < 15; ++i) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await session.run(feeds);
  const cpu = process.cpuUsage(c0);
  times.push(oneThread ? (cpu.user + cpu.system) / 1e3 : performance.now() - t0);
}
times.sort((a, b) => a - b);
const ms = times[7];
const version = JSON.parse(readFileSync(join(root, 'tools/ort/node_modules/onnxruntime-node/package.json'))).version;
console.log(`onnxruntime ${version}${oneThread ? ' (1 thread, CPU time)' : ''}: ${ms.toFixed(3)} ms per ${images} images, ${Math.round((images / ms) * 1e3)} images/s`);
