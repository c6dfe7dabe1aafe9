import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, TOLK_ROLES, type TolkRole } from '../config.js';
import { keysCreateCommand, keysGrantCommand, keysListCommand, keysRevokeCommand } from './keys.js';
import { cliTarget } from './target.js';
import { TOLK_VERSION } from '../version.js';
import { migrateCommand } from './migrate.js';
import { orgsListCommand, orgsSetCommand, orgsShowCommand, parseEngineOption, parseMaxStreamsOption, parseMinutesOption, parseTierOption, type EngineOptions } from './orgs.js';
import { enginesCheckCommand, enginesListCommand } from './engines.js';
import { serveCommand } from './serve.js';
import { translateCommand } from './translate.js';

// Engine calls run on libuv's pool (one per concurrent decode): give it room for many streams.
process.env.UV_THREADPOOL_SIZE ??= '16';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

function role(value: string): TolkRole {
  const found = TOLK_ROLES.find((r) => r === value);
  if (!found) throw new InvalidArgumentError(`a role is one of ${TOLK_ROLES.join(', ')}`);
  return found;
}

const program = new Command('tolk').description('Tolk: self-hostable real-time voice translation server').version(TOLK_VERSION, '-V, --version', 'print Tolk\'s version');

program
  .command('serve')
  .description('start the server (HTTP + WebSocket surfaces, offline engines)')
  .option('--port <n>', 'TCP port (env PORT, default 8080)', port)
  .option('--host <h>', 'interface to listen on (env HOST, default 0.0.0.0)')
  .option('--data-dir <dir>', 'embedded database folder (env TOLK_DATA_DIR, default ./.tolk)')
  .option('--role <role>', 'all (every surface, pipelines in-process), gateway (every surface, /vt on remote workers) or worker (leg 2 only) (env TOLK_ROLE, default all)', role)
  .action(async (o: { port?: number; host?: string; dataDir?: string; role?: TolkRole }) => {
    await serveCommand(loadConfig(process.env, { port: o.port, host: o.host, dataDir: o.dataDir, role: o.role }));
  });

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .description('create an API key (works whether or not the server is running)')
  .requiredOption('--org <name>', 'organization name (created if missing)')
  .option('--name <label>', 'label of the key', 'default')
  .option('--role <role>', 'owner, admin or member', 'member')
  .option('--test', 'make an ip_test_ key')
  .option('--json', 'print {"id","key","org","role"} as JSON')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (o: { org: string; name: string; role: string; test?: boolean; json?: boolean; dataDir?: string }) => {
    await keysCreateCommand(cliTarget(o.dataDir), o);
  });
keys
  .command('grant <keyId>')
  .description('let a key act in another organization too (organization_id on POST /api/sessions)')
  .requiredOption('--org <name>', 'organization name (created if missing)')
  .option('--role <role>', 'owner, admin or member', 'member')
  .option('--json', 'print {"key_id","org","organization_id","role"} as JSON')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (keyId: string, o: { org: string; role: string; json?: boolean; dataDir?: string }) => {
    await keysGrantCommand(cliTarget(o.dataDir), keyId, o);
  });

keys
  .command('list')
  .description('list the API keys (never the keys: their first characters, e.g. ip_live_Ab3x…), with organization, role and name')
  .option('--org <name>', 'only this organization\'s keys')
  .option('--json', 'print [{"id","name","organizationName","role","mode","hint","createdAt","lastUsedAt"}]')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (o: { org?: string; json?: boolean; dataDir?: string }) => {
    await keysListCommand(cliTarget(o.dataDir), o);
  });
keys
  .command('revoke <keyId>')
  .description('revoke an API key for good (its session keys too; a running server ends its live streams)')
  .option('--json', 'print {"id","revoked"}')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (keyId: string, o: { json?: boolean; dataDir?: string }) => {
    await keysRevokeCommand(cliTarget(o.dataDir), keyId, o);
  });

const orgs = program.command('orgs').description('organization admission: tier, minutes balance, concurrent streams (docs/admission.md), engines (docs/engines.md)');
orgs
  .command('set')
  .description('set an organization\'s tier, balance, stream limit or engines (works whether or not the server is running)')
  .requiredOption('--org <name>', 'organization name (created if missing)')
  .option('--tier <n>', 'tier: 0 transcription only, 1 (default) every installed pair and voice', parseTierOption)
  .option('--minutes <n|unlimited>', 'streaming minutes left (replaces the balance); unlimited by default', parseMinutesOption)
  .option('--max-streams <n|unlimited>', 'concurrent streams the organization may hold; unlimited by default', parseMaxStreamsOption)
  .option('--stt <engine|default>', 'speech recognition engine (id or module name) its streams use first; default: the routing', parseEngineOption)
  .option('--translator <engine|default>', 'translation engine its streams use first', parseEngineOption)
  .option('--tts <engine|default>', 'speech synthesis engine its streams use first', parseEngineOption)
  .option('--json', 'print {"org","organization_id","tier","tier_policy","minutes_balance_ms","max_concurrent_streams","engines"}')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (o: { org: string; tier?: number; minutes?: number | 'unlimited'; maxStreams?: number | 'unlimited'; json?: boolean; dataDir?: string } & EngineOptions) => {
    await orgsSetCommand(cliTarget(o.dataDir), o);
  });
orgs
  .command('show')
  .description('print an organization\'s tier, balance, stream limit and engines')
  .requiredOption('--org <name>', 'organization name')
  .option('--json', 'print the settings as JSON (as orgs set --json)')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (o: { org: string; json?: boolean; dataDir?: string }) => {
    await orgsShowCommand(cliTarget(o.dataDir), o);
  });

orgs
  .command('list')
  .description('list the organizations with their tier and number of keys')
  .option('--json', 'print [{"id","name","tier","keys","createdAt"}]')
  .option('--data-dir <dir>', 'data folder (env TOLK_DATA_DIR; default: the running tolk serve\'s, else ./.tolk)')
  .action(async (o: { json?: boolean; dataDir?: string }) => {
    await orgsListCommand(cliTarget(o.dataDir), o);
  });

const engines = program.command('engines').description('speech engines and their routing (docs/engines.md)');
engines
  .command('list', { isDefault: true })
  .description('list the engine modules of this build with their settings')
  .option('--json', 'print [{"kind","name","description","settings"}]')
  .action((o: { json?: boolean }) => enginesListCommand(o));
engines
  .command('check')
  .description('validate the routing configuration (TOLK_ENGINES or TOLK_ENGINES_FILE) and print its engines and routes')
  .option('--file <path>', 'a JSON or YAML configuration file instead of the environment')
  .option('--start', 'also start the engines and print the languages they offer together')
  .action(async (o: { file?: string; start?: boolean }) => {
    await enginesCheckCommand(loadConfig(process.env), o);
  });

program
  .command('migrate')
  .description('apply pending database migrations (Postgres with DATABASE_URL, or the embedded database) and exit')
  .option('--data-dir <dir>', 'embedded database folder (env TOLK_DATA_DIR, default ./.tolk)')
  .action(async (o: { dataDir?: string }) => {
    await migrateCommand(loadConfig(process.env, { dataDir: o.dataDir }));
  });

program
  .command('translate')
  .description('stream a WAV file through /vt at real-time pace and print transcripts and translations')
  .argument('<in.wav>', 'mono or stereo WAV (8, 16, 24 or 48 kHz; others are resampled to 16 kHz)')
  .requiredOption('--from <lang>', 'source language (BCP 47), e.g. en-US')
  .requiredOption('--to <lang>', 'target language (BCP 47), e.g. es-ES')
  .option('--voice <voice>', 'male or female', 'female')
  .option('--out <file>', 'write the translated speech to this WAV file')
  .option('--json', 'print one JSON event per line')
  .option('--url <url>', 'a running server, e.g. http://127.0.0.1:8080 (default: an in-process server)')
  .option('--api-key <key>', 'API key for --url (env TOLK_API_KEY)')
  .option('--fast', 'send as fast as the server reads instead of at real-time pace')
  .action(async (file: string, o: { from: string; to: string; voice: string; out?: string; json?: boolean; url?: string; apiKey?: string; fast?: boolean }) => {
    process.exitCode = await translateCommand(file, o);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tolk: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
