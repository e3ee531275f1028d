import { Option, type Command } from 'commander';
import { parseCount, parseNumber } from '../parse';
import { runFinetune, type FinetuneFlags } from './finetune';

/** Adds `embedder finetune` to the program. */
export function registerFinetune(program: Command): void {
  program
    .command('finetune')
    .description('fine-tune a sentence-transformers BERT model on text pairs (TensorFlow.js) and write a model folder both backends serve')
    .requiredOption('-m, --model <name|path>', 'the base model: a folder with model.safetensors or pytorch_model.bin, or a name under the model path')
    .option('--model-path <dir>', 'folder holding model folders (default EMBEDDER_MODEL_PATH)')
    .requiredOption('--train <file>', 'training pairs: .jsonl (sentence1/sentence2/score or anchor/positive), .tsv or .csv (STS-B files as they are)')
    .option('--eval <file>', 'evaluation pairs, evaluated after every epoch (Spearman for scored pairs, recall@1 otherwise)')
    .addOption(new Option('--loss <loss>', 'cosine (CosineSimilarityLoss, scored pairs) or mnrl (MultipleNegativesRankingLoss)').choices(['cosine', 'mnrl']).default('cosine'))
    .option('--epochs <n>', 'epochs (default 1)', parseCount('--epochs'))
    .option('--batch-size <n>', 'pairs per step (default 16)', parseCount('--batch-size'))
    .option('--lr <rate>', 'peak learning rate of AdamW (default 2e-5)', parseNumber('--lr', 0, 1))
    .option('--warmup-ratio <ratio>', 'share of steps warming up, then linear decay (default 0.1)', parseNumber('--warmup-ratio', 0, 1))
    .option('--seed <n>', 'seed of the shuffle and the dropout masks (default 42)', parseCount('--seed', 0))
    .option('--max-seq-length <n>', "tokens per text (default: the model's max_seq_length)", parseCount('--max-seq-length', 3))
    .option('--weight-decay <w>', 'AdamW weight decay, not on biases and LayerNorm (default 0.01)', parseNumber('--weight-decay', 0, 1))
    .requiredOption('-o, --output <dir>', 'the folder to write the fine-tuned model to')
    .option('--checkpoint-every <n>', 'save a checkpoint every n steps in <output>/checkpoints (default: none)', parseCount('--checkpoint-every'))
    .option('--resume', 'continue from the newest checkpoint in <output>/checkpoints')
    .option('--overwrite', 'replace an existing output folder')
    .option('--onnx <file>', "the base model's ONNX graph, when the model folder has no onnx/model.onnx")
    .addOption(new Option('--runtime <name>', 'TensorFlow.js runtime (default: the best available)').choices(['node-gpu', 'node', 'wasm', 'cpu']))
    .option('-v, --verbose', 'log details, and stack traces on errors')
    .action((flags: FinetuneFlags) => runFinetune(flags));
}
