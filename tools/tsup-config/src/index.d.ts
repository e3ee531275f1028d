import type { Options } from 'tsup';
/** The shared tsup base: ESM, Node 22+, declarations, dependencies left external. */
export declare function embedderTsup(options?: { entry?: string[] }): Options;
