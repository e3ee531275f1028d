import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { MODEL_SETTINGS, defaultSettings, parseSettingText, settingFlagHelp, type SettingDefinition } from '@embedder-rag/core';
import { addModelOptions, buildConfig } from './config';
import { createProgram } from './program';

// The CLI loads the server on use (serve), so this test does too.
const { configHelp, parseServerConfig } = await import('@embedder-rag/server');

// Core's MODEL_SETTINGS is the one list both apps derive their flags and variables from. These checks walk the list,
// so a setting one app does not take (the server had no --offline) fails here, whatever the setting is.

/** A value other than the default for each setting: the flag arguments, the variable's text and the setting's value. */
function sample(setting: SettingDefinition): { args: string[]; text: string; expected: unknown } {
  const fallback = defaultSettings()[setting.key];
  const { kind } = setting;
  switch (kind.type) {
    case 'boolean':
      // Off when on by default or when the model decides (normalize), else on.
      return fallback === false
        ? { args: [`--${setting.flag}`], text: 'true', expected: true }
        : { args: [`--no-${setting.flag}`], text: 'false', expected: false };
    case 'enum': {
      const value = kind.values.find((candidate) => candidate !== fallback)!;
      return { args: [`--${setting.flag}`, value], text: value, expected: value };
    }
    case 'int':
    case 'number': {
      const text = String(kind.max);
      return { args: [`--${setting.flag}`, text], text, expected: parseSettingText(kind, text, setting.flag) };
    }
    case 'string': {
      // A text the setting accepts: a URL where it checks one (cacheRedisUrl), else any.
      const text = kind.problem === undefined ? 'some-org/some-value' : 'redis://127.0.0.1:6379/0';
      return { args: [`--${setting.flag}`, text], text, expected: text };
    }
  }
}

/** What the server made of a setting: `--model`/EMBEDDER_MODEL_TYPE name the (first) served model. */
function serverValue(setting: SettingDefinition, sources: { env?: NodeJS.ProcessEnv; argv?: string[] }): unknown {
  const config = parseServerConfig({ env: {}, ...sources });
  return setting.key === 'model' ? config.models[0] : config.modelSettings[setting.key];
}

function cliValue(setting: SettingDefinition, args: string[], env: NodeJS.ProcessEnv = {}): unknown {
  const command = addModelOptions(new Command('test')).exitOverride();
  command.parse(args, { from: 'user' });
  return buildConfig(command.opts(), env).settings[setting.key];
}

describe("core's list of settings, in both apps", () => {
  it.each(MODEL_SETTINGS.map((setting) => [setting.flag, setting] as const))('--%s and its variables: CLI and server set the same value', (_, setting) => {
    const { args, text, expected } = sample(setting);
    expect(expected).not.toEqual(defaultSettings()[setting.key]);
    expect(cliValue(setting, args)).toEqual(expected);
    expect(serverValue(setting, { argv: args })).toEqual(expected);
    for (const variable of setting.env) {
      expect(cliValue(setting, [], { [variable]: text }), variable).toEqual(expected);
      expect(serverValue(setting, { env: { [variable]: text } }), variable).toEqual(expected);
    }
  });

  it('a flag beats its variable in both apps (--no-offline over HF_HUB_OFFLINE=1, --offline over EMBEDDER_OFFLINE=0)', () => {
    const offline = MODEL_SETTINGS.find((setting) => setting.key === 'offline')!;
    expect(cliValue(offline, ['--no-offline'], { HF_HUB_OFFLINE: '1' })).toBe(false);
    expect(serverValue(offline, { argv: ['--no-offline'], env: { HF_HUB_OFFLINE: '1' } })).toBe(false);
    expect(cliValue(offline, ['--offline'], { EMBEDDER_OFFLINE: '0' })).toBe(true);
    expect(serverValue(offline, { argv: ['--offline'], env: { EMBEDDER_OFFLINE: '0' } })).toBe(true);
    // The first variable of the list wins over its alias.
    expect(serverValue(offline, { env: { EMBEDDER_OFFLINE: '0', HF_HUB_OFFLINE: '1' } })).toBe(false);
  });

  it('a bad value gets the same message from both apps, naming the flag or the variable', () => {
    const cliFailure = (() => {
      try {
        addModelOptions(new Command('test')).exitOverride().configureOutput({ writeErr: () => {} }).parse(['--batch-size', '0'], { from: 'user' });
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    })();
    const message = "--batch-size must be a whole number from 1 to 4096, got '0'";
    expect(cliFailure).toContain(message);
    expect(() => parseServerConfig({ env: {}, argv: ['--batch-size', '0'] })).toThrow(message);
    expect(() => buildConfig({}, { EMBEDDER_CACHE_TTL: '0' })).toThrow("EMBEDDER_CACHE_TTL must be a whole number of seconds from 1 to 31536000, got '0'");
    expect(() => parseServerConfig({ env: { EMBEDDER_CACHE_TTL: '0' } })).toThrow("EMBEDDER_CACHE_TTL must be a whole number of seconds from 1 to 31536000, got '0'");
    expect(() => parseServerConfig({ env: {}, argv: ['--offline=yes'] })).toThrow(/--offline/);
  });

  it('every model-loading command of the CLI takes every setting, and --help of both apps shows each', () => {
    const program = createProgram();
    const loaders = ['embed', 'similarity', 'info', 'worker'].map((name) => program.commands.find((command) => command.name() === name)!);
    const serverHelp = configHelp();
    for (const setting of MODEL_SETTINGS) {
      for (const command of loaders) {
        const longs = command.options.map((option) => option.long);
        expect(longs, `${command.name()} --${setting.flag}`).toContain(`--${setting.flag}`);
        if (setting.kind.type === 'boolean') expect(longs, `${command.name()} --no-${setting.flag}`).toContain(`--no-${setting.flag}`);
      }
      const shown = settingFlagHelp(setting).flag;
      for (const flag of shown.split(', ')) expect(loaders[0]!.helpInformation()).toContain(flag);
      // The server's --model is its list of served models (a server field), documented as such.
      expect(serverHelp).toContain(setting.key === 'model' ? '--model' : `${shown} `);
      if (setting.key !== 'model') expect(serverHelp).toContain(setting.env[0]);
    }
  });

  it("the READMEs' flag and variable tables list every setting", () => {
    const readme = (path: string) => readFileSync(join(import.meta.dirname, '../../..', path), 'utf8');
    const cli = readme('apps/cli/README.md');
    const server = readme('apps/server/README.md');
    const root = readme('README.md');
    for (const setting of MODEL_SETTINGS) {
      for (const shown of settingFlagHelp(setting).flag.split(', ')) {
        const flag = shown.split(' ')[0]!;
        expect(cli, `apps/cli/README.md ${flag}`).toMatch(new RegExp(`[\`\\s]${flag}[\`\\s]`));
      }
      expect(server, `apps/server/README.md ${setting.env[0]}`).toContain(`\`${setting.env[0]}\``);
      expect(root, `README.md ${setting.env[0]}`).toContain(`\`${setting.env[0]}`);
    }
  });
});
