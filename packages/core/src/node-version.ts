/**
 * The oldest Node.js embedder runs on: node:sqlite (the persistent cache) is unflagged from 22.13 (and 23.4).
 * Older Nodes fail deep inside an import with "No such built-in module"; the entry points check first.
 */
export const MIN_NODE_VERSION = '22.13.0';

function parseVersion(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.replace(/^v/, '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

/**
 * One line saying why this Node is too old, or undefined when it is recent enough. 23.0–23.3 had node:sqlite
 * behind a flag only, so they are refused like 22.12.
 */
export function unsupportedNodeMessage(version: string = process.versions.node): string | undefined {
  const [major, minor] = parseVersion(version);
  const [minMajor, minMinor] = parseVersion(MIN_NODE_VERSION);
  const tooOld = major < minMajor || (major === minMajor && minor < minMinor) || (major === 23 && minor < 4);
  if (!tooOld) return undefined;
  return `Node.js ${version.replace(/^v/, '')} is too old: embedder needs Node.js >= ${MIN_NODE_VERSION} (node:sqlite); run \`node --version\` and upgrade, or use the repo's Node via \`source tools/scripts/env.sh\``;
}
