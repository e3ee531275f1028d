import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Module boundaries follow ../shared/design/ARCHITECTURE.md: core depends on nothing internal; libraries at most on
// core; backends on core (and the weights reader) and never on each other; only the facade wires libraries
// together; apps and tools sit on top.
const depConstraints = [
  // Every project may use the shared build config; tests may use the private test-fixtures (paths, reference data).
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['scope:core', 'type:build', 'scope:fixtures'] },
  { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['type:build'] },
  // Backends may run sessions on worker threads through the one worker-thread channel (packages/worker-channel).
  { sourceTag: 'type:backend', onlyDependOnLibsWithTags: ['scope:core', 'scope:weights', 'scope:quantize', 'scope:worker-channel', 'type:build', 'scope:fixtures', 'scope:testkit'] },
  {
    sourceTag: 'type:facade',
    onlyDependOnLibsWithTags: ['scope:core', 'type:lib', 'type:backend', 'type:build', 'scope:fixtures'],
  },
  { sourceTag: 'type:fixtures', onlyDependOnLibsWithTags: ['scope:core', 'type:build'] },
  // The row-wise int8 quantiser (packages/quantize): core only; its tests tokenise with the testkit.
  { sourceTag: 'type:quantizer', onlyDependOnLibsWithTags: ['scope:core', 'type:build', 'scope:fixtures', 'scope:testkit'] },
  // The conformance suite drives backends the way the facade does, so it may use the libraries too.
  { sourceTag: 'type:testkit', onlyDependOnLibsWithTags: ['scope:core', 'type:lib', 'type:build', 'scope:fixtures'] },
  // Training runs the tfjs backend's BERT forward pass under tf.variableGrads, so it sits on the backend and weights.
  {
    sourceTag: 'type:train',
    onlyDependOnLibsWithTags: ['scope:core', 'type:lib', 'type:backend', 'scope:weights', 'scope:quantize', 'type:build', 'scope:fixtures'],
  },
  // The distributed mode drives generators the way apps do (through the facade's public API; tests load real ones).
  {
    sourceTag: 'type:distributed',
    onlyDependOnLibsWithTags: ['scope:core', 'type:lib', 'type:facade', 'type:build', 'scope:fixtures'],
  },
  // The CLI's `serve` starts the server, so apps may use the server's exported startServer; `worker` and
  // `embed --queue` run the distributed mode.
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['scope:core', 'type:facade', 'type:lib', 'scope:quantize', 'type:build', 'scope:fixtures', 'scope:server', 'type:train', 'scope:distributed'],
  },
  {
    sourceTag: 'type:tool',
    onlyDependOnLibsWithTags: ['scope:core', 'type:facade', 'type:lib', 'type:backend', 'scope:fixtures', 'type:tool', 'type:build', 'type:train', 'scope:distributed'],
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/coverage/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints, banTransitiveDependencies: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Libraries never write to the console; they take a Logger.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
);
