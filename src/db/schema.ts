/**
 * Every table of Tolk's database (drizzle-kit reads this file: drizzle.config.ts). The tables are
 * split by feature; a feature's tables import the core ones (organizations, sessions) from
 * `schema-core.ts`, never from this index, so the schema has no import cycle.
 */
export * from './schema-core.js';
export * from './schema-billing.js';
export * from './schema-calls.js';
