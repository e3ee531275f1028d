import { describe, expect, it } from 'vitest';
import { MIN_NODE_VERSION, unsupportedNodeMessage } from './node-version';

describe('unsupportedNodeMessage', () => {
  it('accepts the minimum and everything after it', () => {
    for (const version of [MIN_NODE_VERSION, '22.13.1', '22.18.0', 'v23.4.0', '24.0.0', '25.1.0']) {
      expect(unsupportedNodeMessage(version)).toBeUndefined();
    }
  });

  it('refuses older Nodes, and 23.0–23.3 whose node:sqlite is behind a flag, in one line naming both versions', () => {
    for (const version of ['20.20.2', '22.0.0', '22.12.0', 'v22.5.1', '23.3.0', '18.19.0']) {
      const message = unsupportedNodeMessage(version);
      expect(message).toContain(`Node.js ${version.replace(/^v/, '')} is too old`);
      expect(message).toContain(`>= ${MIN_NODE_VERSION}`);
      expect(message).not.toContain('\n');
    }
  });

  it('checks the running Node by default (the test runner runs a supported one)', () => {
    expect(unsupportedNodeMessage()).toBeUndefined();
  });
});
