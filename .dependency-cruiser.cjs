/* global module */
/**
 * The import graph of src/ (docs/architecture.md "Layers"), checked by `npm run lint`:
 * no import cycle, and no import from a lower layer into a higher one — a request flows down, never
 * up. Type-only imports count too: a type names the module it comes from, so a cycle of types is a
 * cycle of the design (docs/architecture.md "Layers" says why).
 *
 * Each entry of ABOVE names what one folder of src/ (or one file at its top) must not import.
 */
const FOLDERS = ['common', 'audio', 'state', 'db', 'providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli'];
/** Files at the top of src/ that have a layer of their own, by the layer they sit in. */
const BASE = ['errors', 'version', 'logging', 'billing-config', 'calls-config'];
const COMPOSITION = ['app', 'server', 'worker-server'];
const ROOTS = [...COMPOSITION, 'context', 'metrics', 'config'];
const above = (...names) => names;
const ABOVE = {
  common: [...FOLDERS.filter((f) => f !== 'common'), ...ROOTS, ...BASE],
  audio: [...FOLDERS.filter((f) => !['common', 'audio'].includes(f)), ...ROOTS],
  state: above('providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  db: above('state', 'providers', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  providers: above('state', 'db', 'pipeline', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  pipeline: above('state', 'db', 'rooms', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  rooms: above('state', 'db', 'domain', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  domain: above('providers', 'pipeline', 'rooms', 'integrations', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...ROOTS),
  integrations: above('state', 'db', 'providers', 'pipeline', 'rooms', 'domain', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION, 'context', 'metrics'),
  realtime: above('core', 'gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION, 'context'),
  // The stream session every surface opens its streams through: above realtime, below the gateway.
  core: above('gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION, 'context'),
  gateway: above('transports', 'api', 'client', 'cli', ...COMPOSITION),
  transports: above('api', 'client', 'cli', ...COMPOSITION),
  api: above('client', 'cli', ...COMPOSITION),
  client: [...FOLDERS.filter((f) => !['common', 'audio', 'client'].includes(f)), ...ROOTS],
  // The files at the top of src/, each with its layer.
  ...Object.fromEntries(BASE.map((f) => [f, [...FOLDERS.filter((d) => d !== 'common'), ...ROOTS, ...BASE.filter((b) => b !== f && !(f === 'logging' && b === 'errors'))]])),
  // Settings read from the environment: beside the integrations whose settings they parse.
  config: above('state', 'db', 'pipeline', 'rooms', 'domain', 'realtime', 'core', 'gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION, 'context', 'metrics'),
  // The process's metrics: beside the realtime streams they count.
  metrics: above('core', 'gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION, 'context'),
  // What every surface of one process shares: above realtime, below the gateway that reads it.
  context: above('gateway', 'transports', 'api', 'client', 'cli', ...COMPOSITION),
  // Composition roots: only the CLI starts them; a worker shares no module with the gateway's root.
  app: above('cli', 'server', 'worker-server'),
  server: above('cli', 'worker-server'),
  'worker-server': above('cli', 'server', 'app', 'context'),
};

/** The path regex of a folder of src/ or of a file at its top. */
function pathOf(name) {
  return FOLDERS.includes(name) ? `^src/${name}/` : `^src/${name}\\.ts$`;
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: move the shared type or interface down to the layer it belongs to (docs/architecture.md "Layers").',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(ABOVE).map(([name, forbidden]) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `src/${FOLDERS.includes(name) ? name : `${name}.ts`} must not import from a higher layer (${forbidden.join(', ')}): a request flows down, never up (docs/architecture.md "Layers").`,
      from: { path: pathOf(name), pathNot: '\\.test\\.ts$' },
      to: { path: forbidden.map(pathOf) },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|web)/' },
    // Type-only imports are part of the graph (they are erased only at compile time).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
