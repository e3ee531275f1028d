/**
 * `pnpm bench [suite...] [--quick]`: runs the bench suites (all, or those named), prints a table per suite and
 * writes everything to bench-results/latest.json at the repository root. Suites are the files of ./suites.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { suiteChart } from './chart';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatMarkdown, formatSuite } from './format';
import { loadAverage } from './measure';
import type { BenchSuite, SuiteResult } from './suite';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const suitesDir = join(here, 'suites');
/** Suites run first, in this order; any other suite file follows alphabetically. */
const ORDER = ['throughput', 'quality', 'presets', 'similarity', 'cache', 'backends', 'server', 'cli-stream'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const ext = here.endsWith('src') ? '.ts' : '.js';
const available = readdirSync(suitesDir)
  .filter((file) => file.endsWith(ext) && !file.endsWith(`.test${ext}`) && !file.endsWith(`.d${ext}`))
  .map((file) => file.slice(0, -ext.length))
  .sort((a, b) => rankOf(a) - rankOf(b) || a.localeCompare(b));

function rankOf(name: string): number {
  const index = ORDER.indexOf(name);
  return index < 0 ? ORDER.length : index;
}

if (values.help || values.list) {
  console.log(`pnpm bench [suite...] [--quick] [--markdown]\nsuites: ${available.join(', ')}`);
  process.exit(0);
}

const unknown = positionals.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}

if (values.quick) {
  process.env.BENCH_QUICK = '1';
  process.env.BENCH_CLI_LINES ??= '10000';
  process.env.BENCH_SERVER_TEXTS ??= '600';
}

const selected = positionals.length > 0 ? positionals : available;
const started = new Date();
console.log(
  `embedder bench ${values.quick ? '(quick) ' : ''}— ${started.toISOString()}, ${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}, ` +
    `node ${process.version}, load ${loadAverage().toFixed(2)}; suites: ${selected.join(', ')}\n`,
);

const results: SuiteResult[] = [];
const failures: { suite: string; error: string }[] = [];
for (const name of selected) {
  const t0 = performance.now();
  try {
    const module = (await import(pathToFileURL(join(suitesDir, `${name}${ext}`)).href)) as { default?: BenchSuite } & Record<string, unknown>;
    const suite = module.default ?? (Object.values(module).find((v) => typeof (v as BenchSuite)?.run === 'function') as BenchSuite | undefined);
    if (!suite) throw new Error(`suites/${name} exports no BenchSuite`);
    const result = await suite.run();
    results.push(result);
    console.log(values.markdown ? `### ${result.suite}\n${result.description}\n\n${formatMarkdown(result)}\n${(result.notes ?? []).map((n) => `- ${n}`).join('\n')}` : formatSuite(result));
    console.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadAverage().toFixed(2)})\n`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push({ suite: name, error: message });
    console.error(`suite ${name} failed: ${message}\n`);
  }
}

const outDir = join(repoRoot, 'bench-results');
mkdirSync(outDir, { recursive: true });
const report = {
  date: started.toISOString(),
  durationS: (Date.now() - started.getTime()) / 1000,
  quick: values.quick,
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version, loadAtEnd: loadAverage() },
  suites: results,
  failures,
};
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
// Each suite's table as a chart beside the JSON (bench-results/<suite>.svg), for READMEs to show next to the numbers.
const machine = `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
for (const result of results) writeFileSync(join(outDir, `${result.suite}.svg`), suiteChart(result, { subtitle: machine }));
console.log(`wrote ${join(outDir, 'latest.json')} (${report.durationS.toFixed(0)} s)`);
if (failures.length > 0) process.exitCode = 1;
