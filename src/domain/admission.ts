import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { billingAccounts, billingUsage, organizations } from '../db/schema.js';
import { primaryLanguage } from '../common/language-tags.js';
import type { VoiceName } from '../common/voices.js';
import { ensureOrganization } from './api-keys.js';

// Tier policy

/**
 * What the organizations of a tier may use (spec 002 Part 2 step 2: "whether the requested language
 * pair and voice are available under the account's tier"). Whether the installed engines can serve
 * the pair is a separate check (`checkLanguages`); a tier only narrows it.
 */
export interface TierPolicy {
  /** Lowest tier number the policy applies to; it holds up to the next policy's tier. */
  tier: number;
  /** Short name shown by `tolk orgs show`. */
  name: string;
  /**
   * `any`: every target the installed engines offer for the source; `same-language`: only the
   * source's own language (transcription and re-voicing, no machine translation).
   */
  targets: 'any' | 'same-language';
  /** Voices (spec 002 `voice`) the tier may request. */
  voices: readonly VoiceName[];
}

/**
 * The tier policies, lowest first (docs/admission.md "Tiers"). Policy lives in code, not in a table:
 * tiers are product decisions that change with the code, and the column alone is the operator's
 * knob. Tier 1, the default of every organization, allows everything installed.
 */
export const TIER_POLICIES: readonly TierPolicy[] = [
  { tier: 0, name: 'transcription', targets: 'same-language', voices: ['female'] },
  { tier: 1, name: 'standard', targets: 'any', voices: ['female', 'male'] },
];

/**
 * The policy of `tier`: the policy with the highest `tier` at or below it, so tiers above the last
 * policy (e.g. the `"tier": 2` of spec 002 Part 3) get the most permissive one.
 * @throws {RangeError} when `tier` is not an integer ≥ 0.
 */
export function tierPolicy(tier: number): TierPolicy {
  if (!Number.isInteger(tier) || tier < 0) throw new RangeError(`a tier is an integer ≥ 0, not ${tier}`);
  let chosen: TierPolicy | undefined;
  for (const p of TIER_POLICIES) if (p.tier <= tier) chosen = p;
  if (!chosen) throw new RangeError(`no tier policy covers tier ${tier}`);
  return chosen;
}

/**
 * Checks a language pair and voice against a tier policy (spec 002 Part 2 step 2).
 * @returns undefined when allowed, else a description saying what the tier allows.
 */
export function checkTier(policy: TierPolicy, sourceLanguage: string, targetLanguage: string, voice: string): string | undefined {
  const label = `tier ${policy.tier} (${policy.name})`;
  if (policy.targets === 'same-language' && primaryLanguage(targetLanguage) !== primaryLanguage(sourceLanguage)) {
    return `Incorrect target language "${targetLanguage}": translation is not available under ${label}; the target must be the source language (${primaryLanguage(sourceLanguage)})`;
  }
  if (!policy.voices.includes(voice as VoiceName)) {
    return `Invalid voice "${voice}": not available under ${label}; available: ${policy.voices.join(', ')}`;
  }
  return undefined;
}

// Concurrency counters (stream-counters.ts)

export {
  createStreamCounter, MemoryStreamCounter, RedisStreamCounter,
  type RedisStreamCounterOptions, type StreamCounter, type StreamSlot,
} from './stream-counters.js';
import type { StreamCounter } from './stream-counters.js';

// Admission and metering

/** What a new stream asks for (spec 002 Part 1 config: languages and voice). */
export interface AdmissionRequest {
  /** The organization the stream belongs to (a bound session's, else the key's). */
  organizationId: string;
  sourceLanguage: string;
  targetLanguage: string;
  voice: string;
}

/**
 * The answer of {@link checkStreamAdmission}: admitted with the organization's tier and the slot to
 * release when the stream ends, or refused with the status and description of the `error` event.
 */
export type AdmissionResult =
  | { ok: true; tier: number; engines: OrganizationEngines; release(): Promise<void> }
  | { ok: false; status: 400 | 401 | 402 | 429; description: string };

/**
 * Spec 002 Part 2 step 2 ("Session & Profile Check") for a new stream, in this order so that a
 * refused stream never holds a slot:
 * 1. the organization exists, else 401 "Invalid API key" (a session key outliving its organization);
 * 2. the tier allows the pair and voice, else 400 ("Incorrect target language" / "Invalid voice");
 * 3. `minutes_balance_ms` is null or above 0, else 402 "Balance exhausted"; a subscription past due
 *    beyond its grace period (`billing_accounts.streams_refused_after`, docs/billing.md) is 402 too;
 * 4. a slot is free when `max_concurrent_streams` is set, else 429 "Max concurrent connections exceeded".
 * An admitted stream carries the organization's engine choice (`engines`, merged into leg 2 by the gateway).
 * Call `release()` exactly when the stream ends (again is harmless).
 * @throws {Error} when the database cannot be read.
 */
export async function checkStreamAdmission(db: Database, counter: StreamCounter, input: AdmissionRequest): Promise<AdmissionResult> {
  const rows = await db
    .select({
      tier: organizations.tier, balanceMs: organizations.minutesBalanceMs, maxStreams: organizations.maxConcurrentStreams,
      refusedAfter: billingAccounts.streamsRefusedAfter, engines: organizations.engines,
    })
    .from(organizations)
    .leftJoin(billingAccounts, eq(billingAccounts.organizationId, organizations.id))
    .where(eq(organizations.id, input.organizationId))
    .limit(1);
  const org = rows[0];
  if (!org) return { ok: false, status: 401, description: 'Invalid API key: its organization no longer exists' };
  const refusal = checkTier(tierPolicy(org.tier), input.sourceLanguage, input.targetLanguage, input.voice);
  if (refusal) return { ok: false, status: 400, description: refusal };
  if (org.balanceMs !== null && org.balanceMs <= 0) {
    return { ok: false, status: 402, description: 'Balance exhausted: the organization has no streaming minutes left' };
  }
  if (org.refusedAfter && org.refusedAfter.getTime() <= Date.now()) {
    return { ok: false, status: 402, description: 'Subscription past due: the last invoice was not paid within the grace period; pay it to stream again' };
  }
  const engines = org.engines ?? {};
  if (org.maxStreams === null) return { ok: true, tier: org.tier, engines, release: async () => {} };
  const slot = await counter.acquire(input.organizationId, org.maxStreams);
  if (!slot) {
    return { ok: false, status: 429, description: `Max concurrent connections exceeded (${org.maxStreams} for this organization)` };
  }
  return { ok: true, tier: org.tier, engines, release: () => slot.release() };
}

/**
 * Meters a stream's audio against the organization's balance (spec 002 Part 2 step 2 "sufficient
 * credit"; spec 000 "each minute … counts against your plan quota"): subtracts `audioMs`, rounded up
 * to whole ms, in one SQL statement, so concurrent streams never lose each other's usage. The whole
 * measured usage is charged, so the balance may end below 0; an unlimited (null) balance stays null.
 * In the same transaction the ms are added to `billing_usage.recorded_ms`, the total the Stripe meter
 * reports from (docs/billing.md "Usage"), whether or not Stripe is configured.
 * @param audioMs - audio received, in ms (≥ 0).
 * @returns the balance after the charge, in ms (null: unlimited), or undefined for an unknown organization.
 * @throws {RangeError} when `audioMs` is negative or not finite.
 */
export async function recordUsage(db: Database, organizationId: string, audioMs: number): Promise<{ minutesBalanceMs: number | null } | undefined> {
  if (!Number.isFinite(audioMs) || audioMs < 0) throw new RangeError(`usage is a finite number of ms ≥ 0, not ${audioMs}`);
  const ms = Math.ceil(audioMs);
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(organizations)
      .set({ minutesBalanceMs: sql`${organizations.minutesBalanceMs} - ${ms}` })
      .where(eq(organizations.id, organizationId))
      .returning({ minutesBalanceMs: organizations.minutesBalanceMs });
    if (!rows[0] || ms === 0) return rows[0];
    await tx.insert(billingUsage).values({ organizationId, recordedMs: ms }).onConflictDoUpdate({
      target: billingUsage.organizationId,
      set: { recordedMs: sql`${billingUsage.recordedMs} + ${ms}`, updatedAt: sql`now()` },
    });
    return rows[0];
  });
}

// Organization settings (`tolk orgs`)

/**
 * The engines an organization's streams use first (docs/engines.md "Organizations"), per spec 002
 * Part 3 field: an engine id or module name for `stt.provider`, `translator.provider`,
 * `tts.provider`. A missing key leaves the process's routing.
 */
export interface OrganizationEngines {
  stt?: string;
  translator?: string;
  tts?: string;
}

/** The spec 002 Part 3 fields an organization may choose an engine for. */
export const ENGINE_CHOICE_FIELDS = ['stt', 'translator', 'tts'] as const;

const ENGINE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** An organization's admission settings (spec 002 Part 2 step 2), as `tolk orgs show` prints them. */
export interface OrganizationAdmission {
  organizationId: string;
  name: string;
  tier: number;
  /** Streaming time left, in ms; null is unlimited. */
  minutesBalanceMs: number | null;
  /** Concurrent streams allowed; null is no organization limit. */
  maxConcurrentStreams: number | null;
  /**
   * Live translated audio recorded so far, in ms (`billing_usage.recorded_ms`): counted whether or
   * not Stripe is configured; the total the Stripe meter reports from (docs/billing.md "Usage").
   */
  translatedMs: number;
  /** Engines its streams use first; `{}` when it chose none. */
  engines: OrganizationEngines;
}

/**
 * Settings to change; an absent field is left as it is, null makes it unlimited. In `engines`, a
 * field set to null goes back to the process's routing.
 */
export interface AdmissionChanges {
  tier?: number;
  minutesBalanceMs?: number | null;
  maxConcurrentStreams?: number | null;
  engines?: Partial<Record<(typeof ENGINE_CHOICE_FIELDS)[number], string | null>>;
}

/**
 * Validates `engines` of {@link AdmissionChanges}.
 * @throws {RangeError} naming the field at fault.
 */
function parseEngineChanges(value: unknown): NonNullable<AdmissionChanges['engines']> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RangeError('engines must be an object of stt, translator, tts');
  const out: NonNullable<AdmissionChanges['engines']> = {};
  for (const [field, name] of Object.entries(value)) {
    const f = ENGINE_CHOICE_FIELDS.find((x) => x === field);
    if (!f) throw new RangeError(`engines.${field} is not a field; use ${ENGINE_CHOICE_FIELDS.join(', ')}`);
    if (name !== null && (typeof name !== 'string' || !ENGINE_NAME.test(name))) {
      throw new RangeError(`engines.${field} must be an engine id or module name (lower-case letters, digits, ".", "_", "-") or null (the process's routing)`);
    }
    out[f] = name;
  }
  return out;
}

const INT32_MAX = 2_147_483_647;

/**
 * Validates settings from outside (the admin socket, the CLI) for {@link setOrganizationAdmission}.
 * @throws {RangeError} naming the first invalid field.
 */
export function parseAdmissionChanges(value: unknown): AdmissionChanges {
  if (typeof value !== 'object' || value === null) throw new RangeError('admission changes must be an object');
  const v = value as Record<string, unknown>;
  const whole = (field: string, max: number, nullable: boolean): number | null | undefined => {
    const x = v[field];
    if (x === undefined || (x === null && nullable)) return x;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) {
      throw new RangeError(`${field} must be an integer from 0 to ${max}${nullable ? ' or null (unlimited)' : ''}`);
    }
    return x;
  };
  const out: AdmissionChanges = {};
  const tier = whole('tier', INT32_MAX, false);
  if (typeof tier === 'number') out.tier = tier;
  const balance = whole('minutesBalanceMs', Number.MAX_SAFE_INTEGER, true);
  if (balance !== undefined) out.minutesBalanceMs = balance;
  const streams = whole('maxConcurrentStreams', INT32_MAX, true);
  if (streams !== undefined) out.maxConcurrentStreams = streams;
  if (v.engines !== undefined) out.engines = parseEngineChanges(v.engines);
  return out;
}

/**
 * The admission settings of the organization named `name`.
 * @throws {Error} when there is no such organization.
 */
export async function getOrganizationAdmission(db: Database, name: string): Promise<OrganizationAdmission> {
  const rows = await db
    .select({ org: organizations, translatedMs: billingUsage.recordedMs })
    .from(organizations)
    .leftJoin(billingUsage, eq(billingUsage.organizationId, organizations.id))
    .where(eq(organizations.name, name))
    .limit(1);
  const row = rows[0]?.org;
  if (!row) throw new Error(`no organization named "${name}"`);
  return {
    organizationId: row.id, name: row.name, tier: row.tier, minutesBalanceMs: row.minutesBalanceMs, maxConcurrentStreams: row.maxConcurrentStreams,
    translatedMs: rows[0]?.translatedMs ?? 0,
    engines: row.engines ?? {},
  };
}

/**
 * Changes the admission settings of the organization named `name`, created when missing (as
 * `tolk keys create` does). Takes effect at the next stream's admission; live streams go on.
 * @returns the settings after the change.
 * @throws {RangeError} for an invalid value (see {@link parseAdmissionChanges}).
 */
export async function setOrganizationAdmission(db: Database, name: string, changes: AdmissionChanges): Promise<OrganizationAdmission> {
  const valid = parseAdmissionChanges(changes);
  const org = await ensureOrganization(db, name);
  const { engines: engineChanges, ...columns } = valid;
  const set: Partial<typeof organizations.$inferInsert> = { ...columns };
  if (engineChanges) {
    const merged: Record<string, string | null> = { ...(await getOrganizationAdmission(db, name)).engines, ...engineChanges };
    const chosen = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== null)) as OrganizationEngines;
    set.engines = Object.keys(chosen).length > 0 ? chosen : null;
  }
  if (Object.keys(set).length > 0) await db.update(organizations).set(set).where(eq(organizations.id, org.id));
  return getOrganizationAdmission(db, name);
}
