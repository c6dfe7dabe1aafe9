import { bigint, boolean, index, integer, json, pgTable, primaryKey, real, text, timestamp } from 'drizzle-orm/pg-core';
import { organizations } from './schema-core.js';

/*
 * `json` (not `jsonb`) columns keep objects as the client sent them, key order included.
 *
 * Tables of the calls surface (spec 004, docs/calls.md): call sessions, idempotency keys, transcript
 * segments, recordings, webhook endpoints, events and their delivery attempts.
 */

/** Call sessions (spec 004 `POST /v1/sessions`): created → connecting → active → ended. */
export const callSessions = pgTable('call_sessions', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  /** The API key that created the session; its streams run under that key's principal. */
  createdByKeyId: text('created_by_key_id').notNull(),
  mode: text('mode', { enum: ['bidirectional_translation', 'assistive_translation', 'ai_agent', 'help_chat_voice'] }).notNull(),
  status: text('status', { enum: ['created', 'connecting', 'active', 'ended'] }).notNull(),
  sourceLanguage: text('source_language').notNull(),
  targetLanguage: text('target_language').notNull(),
  /** `{type, phone_number, call_sid, status, provider_call_id}` (spec 004 `provider`), or null. */
  provider: json('provider'),
  recordingEnabled: boolean('recording_enabled').notNull().default(false),
  recordingChannels: text('recording_channels', { enum: ['dual', 'mono'] }).notNull().default('dual'),
  /** Request objects kept as sent: `transcription`, `ai_agent`. */
  transcription: json('transcription'),
  aiAgent: json('ai_agent'),
  metadata: json('metadata'),
  webhookUrl: text('webhook_url'),
  /** The stream token (`kst_…`): a short-lived capability for the stream socket, shown on GET as the vendor does. */
  streamToken: text('stream_token').notNull(),
  streamExpiresAt: timestamp('stream_expires_at', { withTimezone: true }).notNull(),
  endReason: text('end_reason'),
  /** `test` when created with an `ip_test_` key. */
  keyMode: text('key_mode', { enum: ['live', 'test'] }).notNull().default('live'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  endedAt: timestamp('ended_at', { withTimezone: true }),
}, (t) => [index('call_sessions_org_idx').on(t.organizationId, t.createdAt)]);

/**
 * `Idempotency-Key`s of `POST /v1/sessions` per organization (kept 24 h): the request's hash, and
 * once it finished, the response to replay. The primary key makes one of two racing requests the owner.
 */
export const callIdempotencyKeys = pgTable('call_idempotency_keys', {
  organizationId: text('organization_id').notNull(),
  key: text('key').notNull(),
  /** Method and path the key was used on, e.g. `POST /v1/sessions`. */
  route: text('route').notNull(),
  requestHash: text('request_hash').notNull(),
  state: text('state', { enum: ['in_progress', 'completed'] }).notNull(),
  responseStatus: integer('response_status'),
  /** The response body as sent (text, so a replay is the same bytes). */
  responseBody: text('response_body'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
}, (t) => [primaryKey({ columns: [t.organizationId, t.key] }), index('call_idempotency_expires_idx').on(t.expiresAt)]);

/** Final transcript segments of a call session, with their translation (spec 004 transcript). */
export const callTranscriptSegments = pgTable('call_transcript_segments', {
  id: text('id').primaryKey(),
  sessionId: text('session_id').notNull().references(() => callSessions.id, { onDelete: 'cascade' }),
  sequence: integer('sequence').notNull(),
  speaker: text('speaker', { enum: ['customer', 'agent'] }).notNull(),
  language: text('language').notNull(),
  text: text('text').notNull(),
  translationLanguage: text('translation_language'),
  translation: text('translation'),
  /** From the session's start, in ms. */
  startMs: integer('start_ms').notNull(),
  endMs: integer('end_ms').notNull(),
  confidence: real('confidence'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('call_transcript_session_idx').on(t.sessionId, t.sequence)]);

/** Recordings of a call session: WAV files under the data dir (docs/calls.md "Recording"). */
export const callRecordings = pgTable('call_recordings', {
  id: text('id').primaryKey(),
  sessionId: text('session_id').notNull().references(() => callSessions.id, { onDelete: 'cascade' }),
  organizationId: text('organization_id').notNull(),
  /** `dual` (stereo: customer left, agent right), `mixed`, `customer` or `agent`. */
  channel: text('channel').notNull(),
  status: text('status', { enum: ['processing', 'ready', 'failed'] }).notNull(),
  format: text('format').notNull().default('wav'),
  channels: integer('channels').notNull(),
  sampleRateHz: integer('sample_rate_hz').notNull(),
  durationMs: integer('duration_ms').notNull().default(0),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
  /** Path relative to the recordings folder. */
  path: text('path').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('call_recordings_session_idx').on(t.sessionId)]);

/** An organization's webhook endpoint (`wh_…`) and the secret its events are signed with. */
export const callWebhookEndpoints = pgTable('call_webhook_endpoints', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }).unique(),
  /** Null when the organization only has a signing secret (sessions name their own `webhook_url`). */
  url: text('url'),
  secret: text('secret').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Webhook events (`evt_…`): the envelope as delivered, and how delivery went. */
export const callWebhookEvents = pgTable('call_webhook_events', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull(),
  sessionId: text('session_id'),
  type: text('type').notNull(),
  /** The JSON envelope `{id, type, api_version, created_at, data}`, byte-stable across retries. */
  body: text('body').notNull(),
  url: text('url').notNull(),
  status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
}, (t) => [index('call_webhook_events_org_idx').on(t.organizationId, t.createdAt), index('call_webhook_events_due_idx').on(t.status, t.nextAttemptAt)]);

/** One delivery attempt of a webhook event (what the operator sees). */
export const callWebhookAttempts = pgTable('call_webhook_attempts', {
  eventId: text('event_id').notNull().references(() => callWebhookEvents.id, { onDelete: 'cascade' }),
  attempt: integer('attempt').notNull(),
  /** HTTP status the endpoint answered; null when no answer (network error, timeout). */
  statusCode: integer('status_code'),
  error: text('error'),
  durationMs: integer('duration_ms').notNull(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.eventId, t.attempt] })]);
