import { InvalidArgumentError, Option, type Command } from 'commander';
import { EmbedderConfig, MODEL_SETTINGS, parseSettingText, settingFlagHelp, type SettingDefinition } from '@embedder-rag/core';

/**
 * Commander's values of the model-setting flags (derived from core's MODEL_SETTINGS: each under its flag's camel-cased
 * name, already in the setting's unit) and --verbose.
 */
export interface ModelFlags {
  model?: string;
  modelPath?: string;
  batchSize?: number;
  cacheSize?: number;
  threads?: number;
  replicas?: number;
  verbose?: boolean;
  [flag: string]: unknown;
}

/** The key commander stores a setting's flag under (`--cache-ttl` → `cacheTtl`). */
export function flagAttribute(setting: SettingDefinition): string {
  return new Option(`--${setting.flag}`).attributeName();
}

/** The commander options of one setting; a boolean gets `--x` and `--no-x`, help shows what settingFlagHelp shows. */
function settingOptions(setting: SettingDefinition): Option[] {
  const help = settingFlagHelp(setting);
  const short = setting.short === undefined ? '' : `-${setting.short}, `;
  if (setting.kind.type === 'boolean') {
    // Both forms, positive first, so commander leaves the value undefined (the variable applies) unless one is given.
    const both = help.flag.includes(', ');
    const positive = new Option(`${short}--${setting.flag}`, both ? help.description : setting.description);
    const negative = new Option(`--no-${setting.flag}`, setting.negatedDescription ?? `not: ${setting.description}`);
    if (help.flag.startsWith('--no-')) positive.hideHelp();
    else if (!both) negative.hideHelp();
    return [positive, negative];
  }
  const kind = setting.kind;
  const option = new Option(`${short}${help.flag}`, help.description);
  if (kind.type === 'enum') option.choices(kind.values);
  // Core's parser (after choices, which would install its own): same checks and messages as the variables.
  return [
    option.argParser((raw: string) => {
      try {
        return parseSettingText(kind, raw, `--${setting.flag}`);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    }),
  ];
}

/** Adds every model setting's flag (core's MODEL_SETTINGS) and --verbose to a command. */
export function addModelOptions(command: Command): Command {
  for (const setting of MODEL_SETTINGS) for (const option of settingOptions(setting)) command.addOption(option);
  return command.option('-v, --verbose', 'log progress details, and stack traces on errors');
}

/** --prompt-name / --prompt of the commands that embed texts. */
export interface PromptFlags {
  promptName?: string;
  prompt?: string;
}

/** Adds --prompt-name and --prompt to a command that embeds texts. */
export function addPromptOptions(command: Command): Command {
  return command
    .option('--prompt-name <name>', "a prompt of the model's config_sentence_transformers.json put before every text (e.g. query, passage)")
    .option('--prompt <text>', 'text put before every text (wins over --prompt-name)');
}

/** The library's per-call prompt options from the flags. */
export function promptOptions(flags: PromptFlags): { prompt?: string; promptName?: string } {
  return {
    ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
    ...(flags.promptName === undefined ? {} : { promptName: flags.promptName }),
  };
}

/**
 * The config of a run: defaults, then EMBEDDER_* variables (EmbedderConfig.withEnv), then flags, so a flag beats
 * the environment. Invalid values throw INVALID_CONFIG naming the setting.
 */
export function buildConfig(flags: ModelFlags, env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  const fromEnv = EmbedderConfig.create().withEnv(env).settings;
  const overrides: Record<string, unknown> = {};
  for (const setting of MODEL_SETTINGS) {
    const value = flags[flagAttribute(setting)];
    if (value !== undefined) overrides[setting.key] = value;
  }
  return EmbedderConfig.create({ ...fromEnv, ...overrides });
}
