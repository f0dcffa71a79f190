// bench_peers.js — time an ONNX model's batch-1 forward with ONNX Runtime (onnxruntime-node),
// for tools/bench_peers.sh. Prints one JSON line: {"engine", "model", "threads", "median_ms",
// "min_ms", "p90_ms", "runs"}.
//   NODE_PATH=DIR/node_modules node tools/bench_peers.js MODEL.onnx NAME ENGINE THREADS RUNS
// All graph optimizations on (ORT fuses the dynamic-quantization chain into its
// DynamicQuantizeMatMul kernel), intra-op threads = THREADS, sequential execution.
'use strict';
const ort = require('onnxruntime-node');

async function main() {
    const [file, name, engine, threadsArg, runsArg] = process.argv.slice(2);
    const threads = parseInt(threadsArg || '1', 10), runs = parseInt(runsArg || '20', 10);
    const session = await ort.InferenceSession.create(file, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
    });
    const meta = session.inputNames[0];
    // the input shape from the model: (1, C, S, S)
    const shape = [1, 3, 224, 224];
    const dims = session.inputMetadata ? session.inputMetadata[0] : null;
    if (dims && dims.shape && dims.shape.every((d) => typeof d === 'number'))
        shape.splice(0, 4, ...dims.shape);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    let r = 42;
    for (let i = 0; i < n; i++) {
        r = (r * 1664525 + 1013904223) >>> 0;
        data[i] = ((r >>> 8) / 16777216 - 0.5) * 4;
    }
    const feeds = {[meta]: new ort.Tensor('float32', data, shape)};
    for (let w = 0; w < 3; w++)
        await session.run(feeds);
    const ms = [];
    for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const med = runs % 2 ? ms[(runs - 1) / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
    const p90 = ms[Math.min(runs - 1, Math.ceil(0.9 * runs) - 1)];
    console.log(JSON.stringify({engine, model: name, threads, median_ms: med, min_ms: ms[0],
                                p90_ms: p90, runs}));
}

main().catch((e) => {
    console.error(String(e));
    process.exit(1);
});
