import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Organizations own API keys and everything made with them (spec 000 "organization_id"), and carry
 * the account profile that admits their streams (spec 002 Part 2 step 2, docs/admission.md).
 */
export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Tier whose policy says which language pairs and voices the organization may use (`TIER_POLICIES`). */
  tier: integer('tier').notNull().default(1),
  /** Streaming time left, in ms; null is unlimited (the self-hosted default). May go below 0 by the last stream's usage. */
  minutesBalanceMs: bigint('minutes_balance_ms', { mode: 'number' }),
  /** Live streams the organization may hold at once, across processes; null is no organization limit. */
  maxConcurrentStreams: integer('max_concurrent_streams'),
  /**
   * Engines the organization's streams use first, per spec 002 Part 3 field (`stt`, `translator`,
   * `tts` → an engine id or module name, docs/engines.md "Organizations"); null or a missing key: the
   * process's routing.
   */
  engines: jsonb('engines').$type<{ stt?: string; translator?: string; tts?: string }>(),
}, (t) => [
  uniqueIndex('organizations_name_idx').on(t.name),
  check('organizations_tier_check', sql`${t.tier} >= 0`),
  check('organizations_max_concurrent_streams_check', sql`${t.maxConcurrentStreams} >= 0`),
]);

/**
 * API keys (`ip_live_…` / `ip_test_…`). Only the SHA-256 of a key is stored; `prefix` is the
 * masked form shown in listings.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull(),
  mode: text('mode', { enum: ['live', 'test'] }).notNull(),
  prefix: text('prefix').notNull(),
  keyHash: text('key_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [uniqueIndex('api_keys_hash_idx').on(t.keyHash), index('api_keys_org_idx').on(t.organizationId)]);

/**
 * Extra organizations a key may act in (spec 000 `organization_id`: "if the user belongs to multiple
 * organizations"). A key's home organization is `api_keys.organization_id`; rows here add others.
 */
export const memberships = pgTable('memberships', {
  apiKeyId: text('api_key_id').notNull().references(() => apiKeys.id, { onDelete: 'cascade' }),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.apiKeyId, t.organizationId] })]);

/** Translation sessions (spec 000 "Sessions"): created → active → completed. */
export const sessions = pgTable('sessions', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  createdByKeyId: text('created_by_key_id'),
  sourceLang: text('source_lang').notNull(),
  targetLang: text('target_lang').notNull(),
  speakerName: text('speaker_name').notNull(),
  status: text('status', { enum: ['created', 'active', 'completed'] }).notNull(),
  roomName: text('room_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  endedAt: timestamp('ended_at', { withTimezone: true }),
  /** Audio received over the session's streams, in ms (usage metering). */
  usageMs: integer('usage_ms').notNull().default(0),
  /**
   * `test` when created with an `ip_test_` key: its streams (and so `usage_ms`) are test usage, never
   * charged to the organization's balance (docs/platform.md "Test mode").
   */
  mode: text('mode', { enum: ['live', 'test'] }).notNull().default('live'),
}, (t) => [index('sessions_org_idx').on(t.organizationId, t.createdAt)]);

/** Who may join a session; a revoked participant is disconnected and refused from then on. */
export const sessionParticipants = pgTable('session_participants', {
  sessionId: text('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull(),
  role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull(),
  speakerName: text('speaker_name').notNull(),
  joinedAt: timestamp('joined_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [primaryKey({ columns: [t.sessionId, t.userId] })]);

/**
 * Final transcripts of a session, written when they are sent to the client; the translation is added
 * when it is sent. Latencies in ms from the end of speech (pipeline marks).
 */
export const utterances = pgTable('utterances', {
  id: text('id').primaryKey(),
  sessionId: text('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  organizationId: text('organization_id').notNull(),
  participantId: text('participant_id').notNull(),
  speakerName: text('speaker_name').notNull(),
  sourceLang: text('source_lang').notNull(),
  targetLang: text('target_lang').notNull(),
  text: text('text').notNull(),
  translation: text('translation'),
  /** Recognizer confidence in 0..1; null when the engine gives none. */
  confidence: real('confidence'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  durationMs: integer('duration_ms').notNull(),
  finalLatencyMs: integer('final_latency_ms'),
  translationLatencyMs: integer('translation_latency_ms'),
  firstAudioLatencyMs: integer('first_audio_latency_ms'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('utterances_session_idx').on(t.sessionId, t.startedAt)]);

/** The human-interpreter queue (spec 000 `POST /api/sessions/:id/escalate`). */
export const escalations = pgTable('escalations', {
  id: text('id').primaryKey(),
  sessionId: text('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  organizationId: text('organization_id').notNull(),
  reason: text('reason'),
  status: text('status', { enum: ['queued', 'assigned', 'resolved'] }).notNull().default('queued'),
  createdByKeyId: text('created_by_key_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('escalations_queue_idx').on(t.status, t.createdAt)]);

/** Who did what: escalations (with their reason), revocations, key rotations and deletions. */
export const auditLog = pgTable('audit_log', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull(),
  actorKeyId: text('actor_key_id'),
  action: text('action').notNull(),
  targetId: text('target_id'),
  detail: jsonb('detail'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('audit_log_org_idx').on(t.organizationId, t.createdAt)]);

/** Glossary terms of an organization (spec 000 "Glossary"); `language_pair` like `en-es`. */
export const glossaryTerms = pgTable('glossary_terms', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
  sourceTerm: text('source_term').notNull(),
  targetTerm: text('target_term').notNull(),
  languagePair: text('language_pair').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('glossary_terms_unique_idx').on(t.organizationId, t.languagePair, t.sourceTerm)]);
