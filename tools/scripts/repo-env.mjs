// Preloaded (`node --import`) by the repo's package scripts (pnpm embedder, start, eval, bench, example:*):
// one clear line on a Node too old for embedder, then the settings the quick start recorded in .env (for example
// EMBEDDER_MODEL_PATH), so no command needs anything exported by hand. Variables already set win over .env.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Mirrors MIN_NODE_VERSION of @embedder-rag/core (this file runs before anything is built or imported).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13) || (major === 23 && minor < 4)) {
  process.stderr.write(
    `embedder: Node.js ${process.versions.node} is too old: embedder needs Node.js >= 22.13.0 (node:sqlite); ` +
      'run `source tools/scripts/env.sh` to use the Node 24 the quick start installed in .tools/\n',
  );
  process.exit(1);
}

const envFile = fileURLToPath(new URL('../../.env', import.meta.url));
if (existsSync(envFile)) process.loadEnvFile(envFile);
