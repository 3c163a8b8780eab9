// The same measurement as bench_sse_parser, with the npm eventsource-parser, on the files that
// `bench_sse_parser --write-inputs DIR` wrote. Like a browser, each network chunk is decoded
// with a streaming TextDecoder and the resulting string fed to the parser; both are timed.
//
//   node eventsource-parser.mjs DIR [--runs N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir) {
  console.error('usage: node eventsource-parser.mjs DIR [--runs N]');
  process.exit(2);
}
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Math.max(1, Number(args[runsIndex + 1])) : 20;
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const version = JSON.parse(readFileSync(new URL('./node_modules/eventsource-parser/package.json', import.meta.url), 'utf8')).version;

function measure(input) {
  const bytes = readFileSync(join(dir, input.file));
  const chunks = [];
  for (let at = 0; at < bytes.length; at += input.chunk) chunks.push(bytes.subarray(at, Math.min(at + input.chunk, bytes.length)));
  const seconds = [];
  const cpuSeconds = [];
  let events = 0;
  // Three warm-up runs let the JIT settle; they are not counted.
  for (let run = -3; run < runs; run++) {
    let count = 0;
    let dataUnits = 0;
    const parser = createParser({
      onEvent(event) {
        count++;
        dataUnits += event.data.length;
      },
    });
    const decoder = new TextDecoder('utf-8');
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
    const tail = decoder.decode();
    if (tail) parser.feed(tail);
    parser.reset();
    const stop = process.hrtime.bigint();
    const cpu = process.cpuUsage(cpuStart); // all of the process's threads: the GC's count too
    if (count !== input.events || dataUnits === 0) {
      console.error(`${input.name}: ${count} events, expected ${input.events}`);
      process.exit(1);
    }
    events = count;
    if (run >= 0) {
      seconds.push(Number(stop - start) / 1e9);
      cpuSeconds.push((cpu.user + cpu.system) / 1e6);
    }
  }
  seconds.sort((a, b) => a - b);
  const mib = bytes.length / (1024 * 1024);
  return {
    name: input.name,
    description: input.description,
    chunk: input.chunk,
    bytes: bytes.length,
    events,
    runs,
    bestMiBs: mib / seconds[0],
    medianMiBs: mib / seconds[seconds.length >> 1],
    bestCpuMiBs: mib / Math.max(1e-6, Math.min(...cpuSeconds)),
  };
}

const results = manifest.map(measure);
process.stdout.write(JSON.stringify({ parser: `eventsource-parser ${version} (Node.js ${process.version})`, results }, null, 2) + '\n');
