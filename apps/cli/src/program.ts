import { Command, CommanderError } from 'commander';
import { addModelOptions, addPromptOptions } from './config';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes';
import { parseCount } from './parse';
import { formatError } from './report';
import { runEmbed, type EmbedFlags } from './commands/embed';
import { runInfo } from './commands/info';
import { runQuantize, type QuantizeFlags } from './commands/quantize';
import { runServe } from './commands/serve';
import { runSimilarity, type SimilarityFlags } from './commands/similarity';
import { registerFinetune } from './commands/finetune-command';
import { addQueueCommands } from './commands/register-queue';
import { addQueueOptions } from './commands/queue-flags';

/** The version printed by `embedder --version` (set by the build from package.json). */
declare const __EMBEDDER_VERSION__: string | undefined;
const VERSION = typeof __EMBEDDER_VERSION__ === 'string' ? __EMBEDDER_VERSION__ : '0.1.0';

/** Builds the `embedder` command tree. Actions only translate arguments to the facade; errors propagate to {@link main}. */
export function createProgram(): Command {
  const program = new Command('embedder')
    .description('Text embeddings for RAG: all-MiniLM-L6-v2 vectors identical to sentence-transformers.')
    .version(VERSION)
    .exitOverride()
    // Commander's own error text is replaced by the one-line `embedder: CODE: message` of main().
    .configureOutput({ outputError: () => {} })
    .showHelpAfterError(false);

  addQueueOptions(addModelOptions(addPromptOptions(
    program
      .command('embed')
      .description('embed texts; one JSON line {"index","embedding"} per text, in input order')
      .argument('[text...]', 'texts to embed (else --input, else stdin)')
      .option('-i, --input <file>', 'read texts from a file (- = stdin): one per line, or JSONL with text/content')
      .option('-f, --format <format>', 'input format: text or jsonl (default: jsonl for .jsonl/.ndjson, else text)')
      .option('-o, --output <file>', 'write JSON lines here (default stdout)')
      .option('--resume', 'skip texts already in --output and append the rest')
      .option('--progress', 'draw the progress bar on stderr even when it is no terminal')
      .option('--no-progress', 'no progress bar (default: a bar when stderr is a terminal and the vectors are not)')
      .option('--queue <url>', 'distributed mode: queue jobs on this Redis (redis://HOST:PORT) for `embedder worker`s and collect the results')
      .option('--job-tokens <n>', 'with --queue: tokens per job (default 8192)', parseCount('--job-tokens'))
      .option('--segment-chunks <n>', 'with --queue: input texts planned and collected at once, bounding the producer\'s memory (default 100000)', parseCount('--segment-chunks')),
  ))).action((texts: string[], flags: EmbedFlags) => runEmbed(texts, flags));
  addQueueCommands(program);

  addModelOptions(addPromptOptions(
    program
      .command('similarity')
      .description('cosine of two texts, or the --input texts nearest a query as JSON lines {"rank","index","score","text"}')
      .argument('<text...>', 'two texts, or one query with --input')
      .option('-i, --input <file>', 'rank the texts of this file (- = stdin) against the query')
      .option('-f, --format <format>', 'input format: text or jsonl')
      .option('-k, --top-k <n>', 'how many texts to list (default 10)', parseCount('--top-k'))
      .option('-o, --output <file>', 'write the ranking here (default stdout)'),
  )).action((texts: string[], flags: SimilarityFlags) => runSimilarity(texts, flags));

  program
    .command('serve')
    .description('start the HTTP server (TEI and OpenAI routes) until SIGTERM/SIGINT; flags as embedder-server')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption(false)
    .argument('[flags...]', 'server flags: --port, --host, --model (repeatable), --dtype, … (see embedder serve --help)')
    .action((args: string[]) => runServe(args));

  registerFinetune(program);

  program
    .command('quantize')
    .description('write a row-wise int8 copy of a model folder\'s fp32 ONNX file (dtype q8: vectors independent of the batch)')
    .requiredOption('-m, --model <dir>', 'model folder with onnx/model.onnx and tokenizer.json')
    .option('-o, --output <file>', 'where to write it (default <dir>/onnx/model_q8_rowwise.onnx)')
    .option('-v, --verbose', 'log progress on stderr')
    .action((flags: QuantizeFlags) => runQuantize(flags));

  addModelOptions(program.command('info').description('load the model and print the resolved model, backend and runtime')).action(
    (flags) => runInfo(flags),
  );
  return program;
}

/** Runs the CLI and returns the exit code; prints one error line on stderr on failure (stack with --verbose). */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await createProgram().parseAsync([...argv], { from: 'user' });
    // A command that ends early on purpose (embed after Ctrl-C: 130) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_OK;
      // --help output on a bare `embedder` already explains; other usage errors get the one line.
      if (error.code !== 'commander.help' && error.code !== 'commander.helpDisplayed') {
        process.stderr.write(`embedder: INVALID_CONFIG: ${error.message.replace(/^error: /, '')}\n`);
      }
      return error.exitCode === 1 ? EXIT_USAGE : error.exitCode;
    }
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK;
    process.stderr.write(`${formatError(error, verbose)}\n`);
    const code = exitCodeFor(error);
    return code === EXIT_OK ? EXIT_INTERNAL : code;
  }
}
