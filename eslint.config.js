import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (DESIGN §5), lowest first: a module imports only from its own layer or lower
 * ones — a request flows down, never up. Each entry lists what a folder must not import.
 */
const FOLDERS = ['common', 'audio', 'state', 'db', 'providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli'];
/** Composition roots at the top of src/: only the CLI (and each other, downward) may import them. */
const ROOTS = ['app', 'server', 'worker-server', 'context', 'metrics'];
const ABOVE = {
  common: [...FOLDERS.filter((f) => f !== 'common'), ...ROOTS, 'config'],
  audio: [...FOLDERS.filter((f) => !['common', 'audio'].includes(f)), ...ROOTS, 'config'],
  state: ['providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS],
  db: ['state', 'providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS],
  providers: ['state', 'db', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS, 'config'],
  pipeline: ['state', 'db', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS, 'config'],
  rooms: ['state', 'db', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS, 'config'],
  domain: ['providers', 'pipeline', 'rooms', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS],
  integrations: ['state', 'db', 'providers', 'pipeline', 'rooms', 'domain', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS],
  realtime: ['core', 'gateway', 'transports', 'api', 'client', 'cli', 'app', 'server', 'worker-server'],
  core: ['gateway', 'transports', 'api', 'client', 'cli', ...ROOTS],
  gateway: ['transports', 'api', 'client', 'cli', 'app', 'server', 'worker-server'],
  transports: ['api', 'client', 'cli', 'app', 'server', 'worker-server'],
  api: ['client', 'cli', 'app', 'server', 'worker-server'],
  client: FOLDERS.filter((f) => !['common', 'audio', 'client'].includes(f)).concat(ROOTS, 'config'),
};

/** `no-restricted-imports` for the files of one folder: relative imports that climb into a higher layer. */
function layerRule(folder, above) {
  return {
    files: [`src/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: `^(\\.\\./)+(${above.join('|')})(/|\\.js$)`,
          message: `src/${folder} must not import from a higher layer (${above.join(', ')}): a request flows down, never up (DESIGN §5, eslint.config.js).`,
        }],
      }],
    },
  };
}

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
  ...Object.entries(ABOVE).map(([folder, above]) => layerRule(folder, above)),
  {
    // The core (DESIGN §5): small files, small functions. Route tables, the CLI and composition roots are exempt.
    files: ['src/{common,audio,state,providers,pipeline,rooms,realtime,core,gateway,transports}/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'max-lines': ['error', { max: 350 }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // A worker is not a server: it shares no module with the gateway's composition root.
    files: ['src/worker-server.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\./(server|app)\\.js$', message: 'worker-server.ts must not import the gateway (server.ts, app.ts).' }] }] },
  },
);
