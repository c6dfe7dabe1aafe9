import { and, count, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { sessions, usageDays, utterances } from '../db/schema.js';

/** Days a usage report may cover, at most. */
export const MAX_USAGE_DAYS = 90;

/** One UTC day of an organization's usage (docs/platform.md "Operations"). */
export interface UsageDay {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** Audio the organization's streams received that day, in ms: live and test mode, with or without a session. */
  audioMs: number;
  /** Sessions that started that day. */
  sessions: number;
  /** Final transcripts recorded that day. */
  utterances: number;
  /** End of speech → final transcript, 50th and 95th percentile, in ms; null without utterances. */
  finalP50Ms: number | null;
  finalP95Ms: number | null;
  /** End of speech → translation, 50th and 95th percentile, in ms; null without translations. */
  translationP50Ms: number | null;
  translationP95Ms: number | null;
}

/** `YYYY-MM-DD` of `date` in UTC. */
function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function msOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.round(n) : null;
}

/**
 * The last `days` UTC days of `organizationId`'s usage, oldest first, today included, one entry per
 * day (zeros for a quiet day): audio from `usage_days` (every stream, by the day it was received),
 * sessions by the day each started, latency percentiles from `utterances` by the day each was recorded.
 * @param days - 1 to {@link MAX_USAGE_DAYS}.
 * @throws {RangeError} when `days` is out of range.
 */
export async function usagePerDay(db: Database, organizationId: string, days: number, now = new Date()): Promise<UsageDay[]> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS) throw new RangeError(`days is an integer from 1 to ${MAX_USAGE_DAYS}, not ${days}`);
  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const sessionDay = sql<string>`to_char(coalesce(${sessions.startedAt}, ${sessions.createdAt}) at time zone 'UTC', 'YYYY-MM-DD')`;
  const started = await db.select({ date: sessionDay, sessions: count() })
    .from(sessions)
    .where(and(eq(sessions.organizationId, organizationId), gte(sql`coalesce(${sessions.startedAt}, ${sessions.createdAt})`, since)))
    .groupBy(sessionDay);
  const audio = await db.select({ date: usageDays.day, audioMs: sql<string>`${usageDays.liveMs} + ${usageDays.testMs}` })
    .from(usageDays)
    .where(and(eq(usageDays.organizationId, organizationId), gte(usageDays.day, utcDay(since))));
  const utteranceDay = sql<string>`to_char(${utterances.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const pct = (p: number, column: typeof utterances.finalLatencyMs | typeof utterances.translationLatencyMs) => sql<string | null>`percentile_cont(${sql.raw(String(p))}) within group (order by ${column})`;
  const latency = await db.select({
    date: utteranceDay, utterances: count(),
    finalP50: pct(0.5, utterances.finalLatencyMs), finalP95: pct(0.95, utterances.finalLatencyMs),
    translationP50: pct(0.5, utterances.translationLatencyMs), translationP95: pct(0.95, utterances.translationLatencyMs),
  }).from(utterances)
    .where(and(eq(utterances.organizationId, organizationId), gte(utterances.createdAt, since)))
    .groupBy(utteranceDay);
  const out: UsageDay[] = [];
  for (let i = 0; i < days; i++) {
    const date = utcDay(new Date(since.getTime() + i * 86_400_000));
    const m = started.find((r) => r.date === date);
    const a = audio.find((r) => r.date === date);
    const l = latency.find((r) => r.date === date);
    out.push({
      date, audioMs: Number(a?.audioMs ?? 0), sessions: m?.sessions ?? 0, utterances: l?.utterances ?? 0,
      finalP50Ms: msOrNull(l?.finalP50), finalP95Ms: msOrNull(l?.finalP95),
      translationP50Ms: msOrNull(l?.translationP50), translationP95Ms: msOrNull(l?.translationP95),
    });
  }
  return out;
}

/**
 * Adds `audioMs` of a stream's audio to its organization's count for today (UTC) in `usage_days`:
 * `testMode` streams apart from live ones. Called with each charge interval of every admitted
 * stream, charged or not (src/gateway/admission.ts).
 * @throws {RangeError} when `audioMs` is negative or not finite; what the database throws.
 */
export async function recordStreamDay(db: Database, organizationId: string, audioMs: number, testMode: boolean, now = new Date()): Promise<void> {
  if (!Number.isFinite(audioMs) || audioMs < 0) throw new RangeError(`usage is a finite number of ms ≥ 0, not ${audioMs}`);
  const ms = Math.ceil(audioMs);
  if (ms === 0) return;
  const column = testMode ? usageDays.testMs : usageDays.liveMs;
  await db.insert(usageDays).values({ organizationId, day: utcDay(now), ...(testMode ? { testMs: ms } : { liveMs: ms }) })
    .onConflictDoUpdate({ target: [usageDays.organizationId, usageDays.day], set: testMode ? { testMs: sql`${column} + ${ms}` } : { liveMs: sql`${column} + ${ms}` } });
}
