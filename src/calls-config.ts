/**
 * Settings of the calls surface (spec 004; docs/calls.md "Settings"), read by `loadConfig` from the
 * environment.
 */
import { z } from 'zod';
import { parseEgressPolicy, type EgressPolicy } from './common/egress-policy.js';

/** Settings of the calls surface (spec 004), each documented in docs/calls.md "Settings". */
export interface CallsConfig {
  /**
   * Public base URL of this server (`TOLK_PUBLIC_URL`, e.g. `https://tolk.example.com`): `stream.url`
   * is built on it (https → wss). Unset: from the request's `Host` and protocol.
   */
  publicUrl: string | undefined;
  /** How long a session's `stream.token` opens the stream socket, in seconds (`TOLK_CALL_STREAM_TOKEN_TTL_S`, default 3600). */
  streamTokenTtlS: number;
  /** First webhook retry delay, in ms (`TOLK_WEBHOOK_RETRY_BASE_MS`); each next one doubles, capped at 1 h. */
  webhookRetryBaseMs: number;
  /** Delivery attempts of a webhook event before it is `failed` (`TOLK_WEBHOOK_MAX_ATTEMPTS`). */
  webhookMaxAttempts: number;
  /** How long a webhook endpoint has to answer, in ms (`TOLK_WEBHOOK_TIMEOUT_MS`; the vendor documents 30 s). */
  webhookTimeoutMs: number;
  /**
   * Webhook destinations allowed beyond public addresses (`TOLK_WEBHOOK_ALLOW_HOSTS`: host names,
   * addresses, CIDR ranges, comma-separated; docs/security.md "Outbound requests").
   */
  webhookEgress: EgressPolicy;
  /** Webhook attempts in flight at once per process (`TOLK_WEBHOOK_CONCURRENCY`, default 16). */
  webhookConcurrency: number;
  /** How long an `Idempotency-Key` claim holds without its owner's heartbeat, in ms (`TOLK_IDEMPOTENCY_LEASE_MS`, default 15000). */
  idempotencyLeaseMs: number;
  /** `Idempotency-Key`s an organization may hold at once (`TOLK_MAX_IDEMPOTENCY_KEYS_PER_ORG`, default 10000). */
  maxIdempotencyKeysPerOrg: number;
  /** Call sessions an organization may have open (not ended) at once (`TOLK_MAX_OPEN_CALL_SESSIONS_PER_ORG`, default 500). */
  maxOpenSessionsPerOrg: number;
  /** `/v1` requests per minute per API key (`TOLK_CALLS_RATE_LIMIT_PER_MIN`, default 600), with `X-RateLimit-*` headers. */
  rateLimitPerMin: number;
  /**
   * After a restart, how long a call the previous process left live waits for a participant to
   * reconnect before it is ended with `end_reason` `server_restart`, in ms
   * (`TOLK_CALL_RESUME_GRACE_MS`, default 60000; docs/calls.md "Restarts").
   */
  resumeGraceMs: number;
  /**
   * Deprecated shorthand for an `llm` engine of `TOLK_ENGINES` (`TOLK_LLM_BASE_URL` such as
   * `http://127.0.0.1:8000/v1`, `TOLK_LLM_MODEL`, `TOLK_LLM_API_KEY`, `TOLK_LLM_TIMEOUT_MS`): with a
   * base URL and no `llm` engine configured, it runs as engine `tolk-llm` (kind `llm`, name
   * `openai-chat`; docs/engines.md "Engines: openai-chat (LLM)").
   */
  llm: { baseUrl: string | undefined; model: string; apiKey: string | undefined; timeoutMs: number };
}

/** The environment variables of {@link CallsConfig}, merged into the server's environment schema. */
export const callsEnvShape = {
  TOLK_PUBLIC_URL: z.string().regex(/^https?:\/\/[^\s/]+\/?$/, 'an http:// or https:// origin such as https://tolk.example.com').optional(),
  TOLK_CALL_STREAM_TOKEN_TTL_S: z.coerce.number().int().min(10).max(86_400).default(3600),
  TOLK_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(30_000),
  TOLK_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  TOLK_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  TOLK_WEBHOOK_ALLOW_HOSTS: z.string().optional().superRefine((v, issue) => {
    try {
      parseEgressPolicy(v);
    } catch (err) {
      issue.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
    }
  }),
  TOLK_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  TOLK_IDEMPOTENCY_LEASE_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  TOLK_MAX_IDEMPOTENCY_KEYS_PER_ORG: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  TOLK_MAX_OPEN_CALL_SESSIONS_PER_ORG: z.coerce.number().int().min(1).max(1_000_000).default(500),
  TOLK_CALLS_RATE_LIMIT_PER_MIN: z.coerce.number().int().positive().default(600),
  TOLK_CALL_RESUME_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  TOLK_LLM_BASE_URL: z.string().url().optional(),
  TOLK_LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  TOLK_LLM_API_KEY: z.string().min(1).optional(),
  TOLK_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
};

/** The parsed values of {@link callsEnvShape}. */
type CallsEnv = z.infer<z.ZodObject<typeof callsEnvShape>>;

/** {@link CallsConfig} from the parsed environment. */
export function callsConfigFromEnv(e: CallsEnv): CallsConfig {
  return {
    publicUrl: e.TOLK_PUBLIC_URL?.replace(/\/$/, ''),
    streamTokenTtlS: e.TOLK_CALL_STREAM_TOKEN_TTL_S,
    webhookRetryBaseMs: e.TOLK_WEBHOOK_RETRY_BASE_MS,
    webhookMaxAttempts: e.TOLK_WEBHOOK_MAX_ATTEMPTS,
    webhookTimeoutMs: e.TOLK_WEBHOOK_TIMEOUT_MS,
    webhookEgress: parseEgressPolicy(e.TOLK_WEBHOOK_ALLOW_HOSTS),
    webhookConcurrency: e.TOLK_WEBHOOK_CONCURRENCY,
    idempotencyLeaseMs: e.TOLK_IDEMPOTENCY_LEASE_MS,
    maxIdempotencyKeysPerOrg: e.TOLK_MAX_IDEMPOTENCY_KEYS_PER_ORG,
    maxOpenSessionsPerOrg: e.TOLK_MAX_OPEN_CALL_SESSIONS_PER_ORG,
    rateLimitPerMin: e.TOLK_CALLS_RATE_LIMIT_PER_MIN,
    resumeGraceMs: e.TOLK_CALL_RESUME_GRACE_MS,
    llm: { baseUrl: e.TOLK_LLM_BASE_URL, model: e.TOLK_LLM_MODEL, apiKey: e.TOLK_LLM_API_KEY, timeoutMs: e.TOLK_LLM_TIMEOUT_MS },
  };
}
