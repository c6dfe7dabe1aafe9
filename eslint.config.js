import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Code rules. The import graph of src/ — its layers (a request flows down, never up) and no import
 * cycle — is checked by dependency-cruiser in `npm run lint` (.dependency-cruiser.cjs,
 * docs/architecture.md "Layers").
 */
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'scratch/**', '.tolk/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The core (docs/architecture.md "Layers"): small files, small functions. Route tables, the CLI and composition roots are exempt.
    files: ['src/{common,audio,state,providers,pipeline,rooms,realtime,core,gateway,transports}/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'max-lines': ['error', { max: 350 }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
);
