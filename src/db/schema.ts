import { index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Organizations own API keys and everything made with them (spec 000 "organization_id"). */
export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('organizations_name_idx').on(t.name)]);

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
