// Lets plain `node --experimental-strip-types` run this repository's TypeScript sources, whose relative imports
// carry no extension (the bundler convention): an unresolved relative specifier is retried with .ts and /index.ts.
// Used with --import by the tests that spawn a real child process on the sources.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('.')) throw error;
      for (const suffix of ['.ts', '/index.ts']) {
        try {
          return nextResolve(specifier + suffix, context);
        } catch {
          // try the next suffix
        }
      }
      throw error;
    }
  },
});
