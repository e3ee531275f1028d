// @ts-check
/**
 * The shared tsup base: ESM, Node 22+, declarations, dependencies left external.
 * A package's tsup.config.ts is `export default embedderTsup()` (or with extra entries).
 * @param {{ entry?: string[] }} [options]
 */
export function embedderTsup(options = {}) {
  return {
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: false,
    outDir: 'dist',
    // Keep `node:` specifiers: node:sqlite exists only under its prefixed name.
    removeNodeProtocol: false,
  };
}
