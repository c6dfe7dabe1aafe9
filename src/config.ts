import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { VAD_NAMES, type VadName } from './providers/vad/types.js';
import { twilioSettingsFromEnv, type TwilioSettingsResult } from './integrations/twilio-settings.js';
import { parseStripePlans, type StripeSettings, type VapiSettings } from './billing-config.js';
import { callsConfigFromEnv, callsEnvShape, type CallsConfig } from './calls-config.js';

export { parseStripePlans, type StripePlan, type StripeSettings, type VapiSettings } from './billing-config.js';
export type { CallsConfig } from './calls-config.js';

/**
 * Tolk's settings, read from the environment and overridden by command-line flags.
 * Every field is documented in README.md ("Settings") with its environment variable and default.
 */
export interface TolkConfig {
  /** TCP port of the HTTP/WebSocket server (`PORT`, `--port`); 0 picks a free port. */
  port: number;
  /** Interface to listen on (`HOST`, `--host`). */
  host: string;
  /** Folder for the embedded database and the admin socket (`TOLK_DATA_DIR`, `--data-dir`); `memory://` keeps the database in memory. */
  dataDir: string;
  /** Postgres connection string (`DATABASE_URL`); when unset, embedded PGlite in `dataDir` is used. */
  databaseUrl: string | undefined;
  /** pino log level (`LOG_LEVEL`). */
  logLevel: string;
  /** Session key lifetime when `expiration_ttl` is omitted, in seconds (`TOLK_SESSION_KEY_TTL_DEFAULT_S`). */
  sessionKeyTtlDefaultS: number;
  /** Largest accepted `expiration_ttl`, in seconds (`TOLK_SESSION_KEY_TTL_MAX_S`). */
  sessionKeyTtlMaxS: number;
  /**
   * Live session keys (`vt_…`, from the token endpoint or `POST /api/sessions`) one API key may hold
   * at once (`TOLK_MAX_SESSION_KEYS_PER_KEY`); past it, issuing answers 429.
   */
  maxSessionKeysPerKey: number;
  /** API keys an organization may hold (`TOLK_MAX_API_KEYS_PER_ORG`, default 100); `POST /api/api-keys` past it is 409. */
  maxApiKeysPerOrg: number;
  /** Largest accepted inbound WebSocket message, in bytes (`TOLK_MAX_FRAME_BYTES`). */
  maxFrameBytes: number;
  /** Outbound bytes a client may leave unread before it is disconnected (`TOLK_MAX_BUFFERED_BYTES`). */
  maxBufferedBytes: number;
  /** Silence that ends an utterance, in ms (`TOLK_ENDPOINT_SILENCE_MS`). */
  endpointSilenceMs: number;
  /** Utterance length after which a shorter pause ends it, in ms (`TOLK_MAX_UTTERANCE_MS`). */
  maxUtteranceMs: number;
  /** The VAD of every stream (`TOLK_VAD`: `energy` or `silero`, docs/vad.md). */
  vad: VadName;
  /** Concurrent pipelines one process accepts before answering 429 (`TOLK_MAX_STREAMS`): a hard bound over {@link TolkConfig.capacity}. */
  maxStreams: number;
  /**
   * The real-time budget of a process that runs pipelines (docs/deploy.md "Capacity"): `cores` it
   * may use (`TOLK_CPU_CORES`, default the cores Node sees), the fraction of them streams may take
   * (`TOLK_TARGET_UTILISATION`, default 0.8) — a stream is admitted while its measured cost fits —
   * and the audio a stream may fall behind real time before it is shed with a 429, in ms
   * (`TOLK_MAX_BACKLOG_MS`, default 2000); `memoryBudgetMb` — the resident memory the process may
   * grow to by loading recognizers (`TOLK_MEMORY_BUDGET_MB`, default 80% of the machine's or the
   * container's memory, docs/deploy.md "Memory"; unset in tests: no memory bound).
   */
  capacity: { cores: number; targetUtilisation: number; maxBacklogMs: number; memoryBudgetMb?: number | undefined };
  /**
   * Limits that keep one client or tenant from holding the process's stream slots (docs/security.md):
   * `orgShare` — the fraction of `maxStreams` one organization (or all unauthenticated conversations
   * together) may hold (`TOLK_ORG_STREAM_SHARE`, 0–1); `configTimeoutMs` — time a new socket has to
   * send its config (`TOLK_CONFIG_TIMEOUT_MS`); `idleAudioTimeoutMs` — time a stream may go without
   * audio (`TOLK_IDLE_AUDIO_TIMEOUT_S`); `pingIntervalMs` — WebSocket ping period, a peer that
   * misses one pong is dropped (`TOLK_WS_PING_INTERVAL_MS`).
   */
  streamLimits: { orgShare: number; configTimeoutMs: number; idleAudioTimeoutMs: number; pingIntervalMs: number };
  /**
   * Speech recognizers kept loaded between streams at most (`TOLK_STT_IDLE_DECODERS`, default 16).
   * Each holds ~85 MB resident. At start-up up to 6 are loaded for a first burst of streams; more
   * are loaded as streams arrive, and idle ones beyond a reserve of one are freed 30 s after the
   * last stream took one (docs/deploy.md "Memory").
   */
  sttIdleDecoders: number;
  /**
   * The engine routing configuration (docs/engines.md "Configuration"): JSON text of `TOLK_ENGINES`,
   * or the JSON/YAML file `TOLK_ENGINES_FILE`; with neither, the offline engines.
   */
  engines: { json: string | undefined; file: string | undefined };
  /** Shared state (rate limits, later rooms and workers) when set (`REDIS_URL`); in memory otherwise. */
  redisUrl: string | undefined;
  /**
   * Which proxies' `X-Forwarded-For/-Proto/-Host` to believe (`TOLK_TRUST_PROXY`, Fastify's
   * `trustProxy`): `false` (default: none), `true` (any peer: only when nothing but the proxy can
   * reach Tolk), or the proxies' addresses/CIDRs, from a comma-separated list such as
   * `127.0.0.1,10.0.0.0/8` (docs/deploy.md "TLS").
   */
  trustProxy: boolean | string[];
  /** Platform API requests per minute per API key (`TOLK_RATE_LIMIT_PER_MIN`, spec 000 "Rate limits"). */
  rateLimitPerMin: number;
  /**
   * LiveKit server for session rooms (`LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`);
   * the defaults are those of `livekit-server --dev`. `configured` is true only when `LIVEKIT_URL`
   * is set in the environment: only then does Tolk call the LiveKit server (e.g. to remove a
   * revoked participant); room tokens are minted either way.
   */
  liveKit: { url: string; apiKey: string; apiSecret: string; configured: boolean };
  /**
   * LiveKit interpreters one process runs at most (`TOLK_MAX_INTERPRETERS`, default 32), counting
   * rooms created and still waiting for their first participant; beyond it a new room session is
   * refused with 429 (with `REDIS_URL`, a room whose participant joined is placed on a gateway with
   * room instead). docs/rooms.md "Limits".
   */
  maxInterpreters: number;
  /**
   * Lifetime of a LiveKit room token (`roomToken`, spec 001 `token`), in seconds
   * (`TOLK_ROOM_TOKEN_TTL_S`, default 900): how long it lets its holder join. LiveKit hands a
   * connected participant fresh tokens for its reconnects; a revoked identity is removed whenever it
   * comes back. docs/rooms.md "Tokens and revocation".
   */
  roomTokenTtlS: number;
  /**
   * How often the LiveKit rooms still waiting for their first participant are polled, in ms
   * (`TOLK_ROOM_POLL_MS`, default 1000); LiveKit's `participant_joined` webhook to
   * `/api/livekit/webhook` is quicker. docs/rooms.md "How the interpreter joins".
   */
  roomPollMs: number;
  /** Slack incoming webhook notified of escalations (`SLACK_WEBHOOK_URL`); none when unset. */
  slackWebhookUrl: string | undefined;
  /** Conversations one client address may create per minute (`TOLK_CONVERSATION_CREATE_PER_MIN`, spec 003). */
  conversationCreatePerMin: number;
  /** Inactivity after which a conversation expires, in seconds (`TOLK_CONVERSATION_IDLE_TTL_S`, spec 003: 900). */
  conversationIdleTtlS: number;
  /**
   * Bounds of the unauthenticated conversation rooms (docs/security.md "Conversation rooms"):
   * participants per room in this process (`TOLK_ROOM_MAX_PARTICIPANTS`, 10), room sockets per client
   * address (`TOLK_ROOM_MAX_SOCKETS_PER_IP`, 20), and how long a socket may stay while neither it
   * sent audio nor anyone in its room was translated, in ms (`TOLK_ROOM_IDLE_TIMEOUT_S`, 600 s).
   */
  roomLimits: { maxParticipants: number; maxSocketsPerIp: number; idleTimeoutMs: number };
  /**
   * Lock-down (`TOLK_REQUIRE_KEY=1`, docs/security.md "Lock-down"): the live stream and creating a
   * conversation need an API key (`Authorization: Bearer` or the web app's sign-in cookie).
   */
  requireKey: boolean;
  /** On SIGTERM, how long live streams may take to finish their utterance in flight, in ms (`TOLK_DRAIN_TIMEOUT_MS`). */
  drainTimeoutMs: number;
  /**
   * What this process runs (`TOLK_ROLE`, `--role`; docs/architecture.md "Processes"): `all` (default) serves every surface
   * and runs pipelines in-process; `gateway` serves every surface but runs `/vt` streams on remote
   * workers over leg 2 (spec 002 Part 3); `worker` serves only leg 2, `/api/health` and `/metrics`.
   */
  role: TolkRole;
  /** Shared secret a gateway sends on leg 2 and a worker requires (`TOLK_WORKER_SECRET`); needed by `gateway` and `worker`. */
  workerSecret: string | undefined;
  /** leg-2 URL a worker announces in the registry (`TOLK_WORKER_URL`); derived from host and port when unset. */
  workerUrl: string | undefined;
  /** Settings of the calls surface (spec 004, docs/calls.md "Settings"). */
  calls: CallsConfig;
  /**
   * Twilio for the phone calls of spec 004 (`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`,
   * `TWILIO_PHONE_NUMBER`, `TOLK_PUBLIC_URL`; docs/calls.md "Twilio"): the settings, or the
   * problem a call session asking for Twilio is refused with (422).
   */
  twilio: TwilioSettingsResult;
  /** Stripe billing (docs/billing.md); `secretKey` unset: usage is counted but nothing is sent to Stripe. */
  stripe: StripeSettings;
  /** Outbound phone calls through Vapi (docs/phone.md); `apiKey` unset: `phone/start` answers 501. */
  vapi: VapiSettings;
}

/** The roles of `tolk serve --role` (docs/architecture.md "Processes"). */
export const TOLK_ROLES = ['all', 'gateway', 'worker'] as const;
/** One of {@link TOLK_ROLES}. */
export type TolkRole = (typeof TOLK_ROLES)[number];

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  TOLK_DATA_DIR: z.string().min(1).default('./.tolk'),
  DATABASE_URL: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TOLK_SESSION_KEY_TTL_DEFAULT_S: z.coerce.number().int().positive().default(300),
  TOLK_SESSION_KEY_TTL_MAX_S: z.coerce.number().int().positive().default(86_400),
  TOLK_MAX_SESSION_KEYS_PER_KEY: z.coerce.number().int().positive().default(1000),
  TOLK_MAX_FRAME_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  TOLK_MAX_BUFFERED_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  TOLK_ENDPOINT_SILENCE_MS: z.coerce.number().int().min(100).max(5000).default(300),
  TOLK_MAX_UTTERANCE_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  TOLK_VAD: z.enum(VAD_NAMES).default('silero'),
  // Checked here so a wrong value stops the start; each pipeline reads it (src/pipeline/preemptive-synthesis.ts).
  TOLK_PREEMPTIVE: z.enum(['on', 'off']).default('on'),
  TOLK_MAX_STREAMS: z.coerce.number().int().positive().default(32),
  TOLK_CPU_CORES: z.coerce.number().gt(0).max(1024).default(os.availableParallelism()),
  TOLK_TARGET_UTILISATION: z.coerce.number().gt(0).max(1).default(0.8),
  TOLK_MAX_BACKLOG_MS: z.coerce.number().int().min(500).max(60_000).default(2000),
  TOLK_ORG_STREAM_SHARE: z.coerce.number().gt(0).max(1).default(0.75),
  TOLK_CONFIG_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TOLK_IDLE_AUDIO_TIMEOUT_S: z.coerce.number().int().min(1).max(86_400).default(60),
  TOLK_WS_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  TOLK_STT_IDLE_DECODERS: z.coerce.number().int().min(0).max(256).default(16),
  TOLK_MEMORY_BUDGET_MB: z.coerce.number().int().min(64).max(16_777_216).optional(),
  TOLK_ENGINES: z.string().min(1).optional(),
  TOLK_ENGINES_FILE: z.string().min(1).optional(),
  REDIS_URL: z.string().min(1).optional(),
  TOLK_TRUST_PROXY: z.string().trim().regex(/^(true|false|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, 'true, false, or comma-separated proxy addresses/CIDRs such as 127.0.0.1,10.0.0.0/8').default('false'),
  TOLK_RATE_LIMIT_PER_MIN: z.coerce.number().int().positive().default(100),
  LIVEKIT_URL: z.string().min(1).default('ws://localhost:7880'),
  TOLK_MAX_INTERPRETERS: z.coerce.number().int().min(1).max(10_000).default(32),
  TOLK_ROOM_TOKEN_TTL_S: z.coerce.number().int().min(60).max(86_400).default(900),
  TOLK_ROOM_POLL_MS: z.coerce.number().int().min(50).max(3_600_000).default(1000),
  LIVEKIT_API_KEY: z.string().min(1).default('devkey'),
  LIVEKIT_API_SECRET: z.string().min(1).default('secret'),
  SLACK_WEBHOOK_URL: z.string().url().optional(),
  TOLK_CONVERSATION_CREATE_PER_MIN: z.coerce.number().int().positive().default(20),
  TOLK_CONVERSATION_IDLE_TTL_S: z.coerce.number().int().positive().default(900),
  TOLK_REQUIRE_KEY: z.enum(['0', '1', 'false', 'true'], { error: 'use 1 or 0' }).default('0'),
  TOLK_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  TOLK_ROLE: z.enum(TOLK_ROLES).default('all'),
  TOLK_WORKER_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  TOLK_WORKER_URL: z.string().regex(/^wss?:\/\/\S+$/, 'a ws:// or wss:// URL').optional(),
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  STRIPE_API_BASE: z.string().regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL').optional(),
  STRIPE_PRICE_PLANS: z.string().optional(),
  STRIPE_METER_EVENT_NAME: z.string().min(1).max(100).default('tolk_translated_minutes'),
  STRIPE_METER_UNIT: z.enum(['minute', 'second']).default('minute'),
  STRIPE_METER_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(60),
  STRIPE_PAST_DUE_GRACE_HOURS: z.coerce.number().min(0).max(8760).default(72),
  STRIPE_WEBHOOK_TOLERANCE_S: z.coerce.number().int().min(1).max(86_400).default(300),
  VAPI_API_KEY: z.string().min(1).optional(),
  VAPI_ASSISTANT_ID: z.string().min(1).optional(),
  VAPI_PHONE_NUMBER_ID: z.string().min(1).optional(),
  VAPI_API_BASE: z.string().regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL').default('https://api.vapi.ai'),
  VAPI_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  TOLK_MAX_API_KEYS_PER_ORG: z.coerce.number().int().min(2).max(100_000).default(100),
  TOLK_ROOM_MAX_PARTICIPANTS: z.coerce.number().int().min(2).max(1000).default(10),
  TOLK_ROOM_MAX_SOCKETS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(20),
  TOLK_ROOM_IDLE_TIMEOUT_S: z.coerce.number().min(1).max(86_400).default(600),
  ...callsEnvShape,
});

/**
 * 80% of the memory this process can have, in MB: the container's limit (cgroup v2 `memory.max`)
 * when it has one, else the machine's memory (docs/deploy.md "Memory").
 */
export function defaultMemoryBudgetMb(): number {
  let limitBytes = os.totalmem();
  try {
    const cgroup = fs.readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (/^\d+$/.test(cgroup)) limitBytes = Math.min(limitBytes, Number(cgroup));
  } catch {
    // no cgroup v2 limit readable: the machine's memory
  }
  return Math.floor((limitBytes / 1048576) * 0.8);
}

/**
 * Builds the configuration from an environment and command-line overrides.
 * @param env - usually `process.env`.
 * @param overrides - values from flags; they win over the environment.
 * @throws {Error} naming every invalid variable when the environment does not validate.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<TolkConfig> = {},
): TolkConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${details}`);
  }
  const e = parsed.data;
  const config: TolkConfig = {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.TOLK_DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    sessionKeyTtlDefaultS: e.TOLK_SESSION_KEY_TTL_DEFAULT_S,
    sessionKeyTtlMaxS: e.TOLK_SESSION_KEY_TTL_MAX_S,
    maxSessionKeysPerKey: e.TOLK_MAX_SESSION_KEYS_PER_KEY,
    maxApiKeysPerOrg: e.TOLK_MAX_API_KEYS_PER_ORG,
    maxFrameBytes: e.TOLK_MAX_FRAME_BYTES,
    maxBufferedBytes: e.TOLK_MAX_BUFFERED_BYTES,
    endpointSilenceMs: e.TOLK_ENDPOINT_SILENCE_MS,
    maxUtteranceMs: e.TOLK_MAX_UTTERANCE_MS,
    vad: e.TOLK_VAD,
    maxStreams: e.TOLK_MAX_STREAMS,
    capacity: {
      cores: e.TOLK_CPU_CORES, targetUtilisation: e.TOLK_TARGET_UTILISATION, maxBacklogMs: e.TOLK_MAX_BACKLOG_MS,
      memoryBudgetMb: e.TOLK_MEMORY_BUDGET_MB ?? defaultMemoryBudgetMb(),
    },
    streamLimits: {
      orgShare: e.TOLK_ORG_STREAM_SHARE, configTimeoutMs: e.TOLK_CONFIG_TIMEOUT_MS,
      idleAudioTimeoutMs: e.TOLK_IDLE_AUDIO_TIMEOUT_S * 1000, pingIntervalMs: e.TOLK_WS_PING_INTERVAL_MS,
    },
    sttIdleDecoders: e.TOLK_STT_IDLE_DECODERS,
    engines: { json: e.TOLK_ENGINES, file: e.TOLK_ENGINES_FILE },
    redisUrl: e.REDIS_URL,
    trustProxy: parseTrustProxy(e.TOLK_TRUST_PROXY),
    rateLimitPerMin: e.TOLK_RATE_LIMIT_PER_MIN,
    liveKit: { url: e.LIVEKIT_URL, apiKey: e.LIVEKIT_API_KEY, apiSecret: e.LIVEKIT_API_SECRET, configured: env.LIVEKIT_URL !== undefined && env.LIVEKIT_URL !== '' },
    maxInterpreters: e.TOLK_MAX_INTERPRETERS,
    roomTokenTtlS: e.TOLK_ROOM_TOKEN_TTL_S,
    roomPollMs: e.TOLK_ROOM_POLL_MS,
    slackWebhookUrl: e.SLACK_WEBHOOK_URL,
    conversationCreatePerMin: e.TOLK_CONVERSATION_CREATE_PER_MIN,
    conversationIdleTtlS: e.TOLK_CONVERSATION_IDLE_TTL_S,
    roomLimits: { maxParticipants: e.TOLK_ROOM_MAX_PARTICIPANTS, maxSocketsPerIp: e.TOLK_ROOM_MAX_SOCKETS_PER_IP, idleTimeoutMs: e.TOLK_ROOM_IDLE_TIMEOUT_S * 1000 },
    requireKey: e.TOLK_REQUIRE_KEY === '1' || e.TOLK_REQUIRE_KEY === 'true',
    drainTimeoutMs: e.TOLK_DRAIN_TIMEOUT_MS,
    role: e.TOLK_ROLE,
    workerSecret: e.TOLK_WORKER_SECRET,
    workerUrl: e.TOLK_WORKER_URL,
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE,
      plans: parseStripePlans(e.STRIPE_PRICE_PLANS), meterEventName: e.STRIPE_METER_EVENT_NAME,
      meterUnitMs: e.STRIPE_METER_UNIT === 'second' ? 1000 : 60_000, meterIntervalMs: e.STRIPE_METER_INTERVAL_S * 1000,
      pastDueGraceMs: Math.round(e.STRIPE_PAST_DUE_GRACE_HOURS * 3_600_000), webhookToleranceS: e.STRIPE_WEBHOOK_TOLERANCE_S,
    },
    vapi: {
      apiKey: e.VAPI_API_KEY, assistantId: e.VAPI_ASSISTANT_ID, phoneNumberId: e.VAPI_PHONE_NUMBER_ID,
      apiBase: e.VAPI_API_BASE.replace(/\/+$/, ''), webhookSecret: e.VAPI_WEBHOOK_SECRET,
    },
    calls: callsConfigFromEnv(e),
    twilio: twilioSettingsFromEnv(env),
    ...stripUndefined(overrides),
  };
  if (config.dataDir !== 'memory://') config.dataDir = path.resolve(config.dataDir);
  return config;
}

/** `TOLK_TRUST_PROXY` as Fastify's `trustProxy` takes it (validated by the schema above). */
function parseTrustProxy(value: string): boolean | string[] {
  if (value === 'true' || value === 'false') return value === 'true';
  return value.split(',').map((a) => a.trim());
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Why a configuration cannot run as its role (docs/architecture.md "Processes"), or undefined. Gateways and workers meet
 * through the worker registry in Redis and authenticate leg 2 with a shared secret.
 */
export function roleProblem(config: TolkConfig): string | undefined {
  if (config.role === 'all') return undefined;
  if (!config.redisUrl) return `--role ${config.role} needs REDIS_URL: gateways find workers in the worker registry in Redis`;
  if (!config.workerSecret) return `--role ${config.role} needs TOLK_WORKER_SECRET (16+ characters, the same on every gateway and worker): it authenticates leg 2`;
  return undefined;
}
