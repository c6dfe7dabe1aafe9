import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { organizations } from '../db/schema.js';
import {
  checkStreamAdmission, createStreamCounter, getOrganizationAdmission, MemoryStreamCounter, parseAdmissionChanges, recordUsage,
  setOrganizationAdmission, tierPolicy, type AdmissionRequest, type AdmissionResult,
} from './admission.js';

let handle: DatabaseHandle;
before(async () => {
  handle = await openDatabase({ dataDir: 'memory://' });
});
after(async () => {
  await handle.close();
});

let orgCount = 0;
/** A fresh organization with the given settings; returns its id. */
async function org(settings: Parameters<typeof setOrganizationAdmission>[2] = {}): Promise<string> {
  return (await setOrganizationAdmission(handle.db, `org-${++orgCount}`, settings)).organizationId;
}

function request(organizationId: string, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { organizationId, sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female', ...overrides };
}

function admitted(result: AdmissionResult): Extract<AdmissionResult, { ok: true }> {
  assert.equal(result.ok, true, `expected admission, got ${JSON.stringify(result)}`);
  return result as Extract<AdmissionResult, { ok: true }>;
}

async function balanceOf(organizationId: string): Promise<number | null | undefined> {
  const rows = await handle.db.select({ b: organizations.minutesBalanceMs }).from(organizations).where(eq(organizations.id, organizationId));
  return rows[0]?.b;
}

describe('checkStreamAdmission (spec 002 Part 2 step 2)', () => {
  it('admits an organization with the defaults: tier 1, unlimited balance, no stream limit', async () => {
    const id = await org();
    const counter = new MemoryStreamCounter();
    const results = await Promise.all(Array.from({ length: 5 }, () => checkStreamAdmission(handle.db, counter, request(id, { voice: 'male' }))));
    for (const r of results) assert.equal(admitted(r).tier, 1);
    assert.equal(await counter.count(id), 0, 'an organization without a limit takes no slots');
  });

  it('answers 429 at max_concurrent_streams, and release() frees a slot (once)', async () => {
    const id = await org({ maxConcurrentStreams: 2 });
    const counter = new MemoryStreamCounter();
    const first = admitted(await checkStreamAdmission(handle.db, counter, request(id)));
    const second = admitted(await checkStreamAdmission(handle.db, counter, request(id)));
    assert.equal(await counter.count(id), 2);
    assert.deepEqual(await checkStreamAdmission(handle.db, counter, request(id)), {
      ok: false, status: 429, description: 'Max concurrent connections exceeded (2 for this organization)',
    });
    await first.release();
    await first.release(); // a second release must not free the other stream's slot
    assert.equal(await counter.count(id), 1);
    const third = admitted(await checkStreamAdmission(handle.db, counter, request(id)));
    assert.equal((await checkStreamAdmission(handle.db, counter, request(id))).ok, false);
    await second.release();
    await third.release();
    assert.equal(await counter.count(id), 0);
  });

  it('counts each organization separately, and racing requests never exceed the limit', async () => {
    const a = await org({ maxConcurrentStreams: 3 });
    const b = await org({ maxConcurrentStreams: 1 });
    const counter = new MemoryStreamCounter();
    const raced = await Promise.all(Array.from({ length: 10 }, () => checkStreamAdmission(handle.db, counter, request(a))));
    assert.equal(raced.filter((r) => r.ok).length, 3);
    assert.deepEqual(new Set(raced.filter((r) => !r.ok).map((r) => !r.ok && r.status)), new Set([429]));
    admitted(await checkStreamAdmission(handle.db, counter, request(b)));
  });

  it('a process without Redis counts in memory', () => {
    assert.ok(createStreamCounter(undefined) instanceof MemoryStreamCounter);
  });

  it('max_concurrent_streams 0 refuses every stream with 429', async () => {
    const id = await org({ maxConcurrentStreams: 0 });
    const r = await checkStreamAdmission(handle.db, new MemoryStreamCounter(), request(id));
    assert.equal(!r.ok && r.status, 429);
  });

  it('answers 402 "Balance exhausted" at a zero or negative balance, admits at 1 ms', async () => {
    const id = await org({ minutesBalanceMs: 0, maxConcurrentStreams: 5 });
    const counter = new MemoryStreamCounter();
    assert.deepEqual(await checkStreamAdmission(handle.db, counter, request(id)), {
      ok: false, status: 402, description: 'Balance exhausted: the organization has no streaming minutes left',
    });
    assert.equal(await counter.count(id), 0, 'a refused stream holds no slot');
    await setOrganizationAdmission(handle.db, `org-${orgCount}`, { minutesBalanceMs: 1 });
    admitted(await checkStreamAdmission(handle.db, counter, request(id)));
    await recordUsage(handle.db, id, 500);
    assert.equal(await balanceOf(id), -499);
    const r = await checkStreamAdmission(handle.db, counter, request(id));
    assert.equal(!r.ok && r.status, 402);
  });

  it('tier 0 refuses translation (400 "Incorrect target language") and the male voice (400 "Invalid voice")', async () => {
    const id = await org({ tier: 0 });
    const counter = new MemoryStreamCounter();
    const translated = await checkStreamAdmission(handle.db, counter, request(id, { targetLanguage: 'es-ES' }));
    assert.equal(translated.ok, false);
    assert.ok(!translated.ok);
    assert.equal(translated.status, 400);
    assert.match(translated.description, /^Incorrect target language "es-ES": translation is not available under tier 0 \(transcription\); the target must be the source language \(en\)$/);
    const male = await checkStreamAdmission(handle.db, counter, request(id, { targetLanguage: 'en-GB', voice: 'male' }));
    assert.ok(!male.ok);
    assert.equal(male.status, 400);
    assert.equal(male.description, 'Invalid voice "male": not available under tier 0 (transcription); available: female');
    assert.equal(admitted(await checkStreamAdmission(handle.db, counter, request(id, { targetLanguage: 'en-GB' }))).tier, 0);
  });

  it('tiers above the last policy get the most permissive one', async () => {
    assert.equal(tierPolicy(2).name, 'standard');
    const id = await org({ tier: 2 });
    assert.equal(admitted(await checkStreamAdmission(handle.db, new MemoryStreamCounter(), request(id, { voice: 'male' }))).tier, 2);
    assert.throws(() => tierPolicy(-1), RangeError);
  });

  it('checks the tier before the balance, and both before taking a slot', async () => {
    const id = await org({ tier: 0, minutesBalanceMs: 0, maxConcurrentStreams: 0 });
    const r = await checkStreamAdmission(handle.db, new MemoryStreamCounter(), request(id));
    assert.equal(!r.ok && r.status, 400);
  });

  it('answers 401 for an organization that no longer exists', async () => {
    const r = await checkStreamAdmission(handle.db, new MemoryStreamCounter(), request('org_missing'));
    assert.equal(!r.ok && r.status, 401);
  });
});

describe('recordUsage', () => {
  it('subtracts the measured ms, rounded up, and returns the new balance', async () => {
    const id = await org({ minutesBalanceMs: 60_000 });
    assert.deepEqual(await recordUsage(handle.db, id, 1_500), { minutesBalanceMs: 58_500 });
    assert.deepEqual(await recordUsage(handle.db, id, 0.2), { minutesBalanceMs: 58_499 });
    assert.deepEqual(await recordUsage(handle.db, id, 0), { minutesBalanceMs: 58_499 });
    assert.equal(await balanceOf(id), 58_499);
  });

  it('loses no usage under concurrent decrements', async () => {
    const id = await org({ minutesBalanceMs: 100_000 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => recordUsage(handle.db, id, 1_000 + i)));
    // Σ (1000 + i) for i < 40 = 40 000 + 780
    assert.equal(await balanceOf(id), 100_000 - 40_780);
  });

  it('charges the whole usage even past zero', async () => {
    const id = await org({ minutesBalanceMs: 1_000 });
    assert.deepEqual(await recordUsage(handle.db, id, 2_500), { minutesBalanceMs: -1_500 });
  });

  it('keeps an unlimited (null) balance null', async () => {
    const id = await org();
    assert.deepEqual(await recordUsage(handle.db, id, 90_000), { minutesBalanceMs: null });
    assert.equal(await balanceOf(id), null);
  });

  it('returns undefined for an unknown organization and rejects negative or non-finite usage', async () => {
    assert.equal(await recordUsage(handle.db, 'org_missing', 10), undefined);
    await assert.rejects(recordUsage(handle.db, 'org_missing', -1), RangeError);
    await assert.rejects(recordUsage(handle.db, 'org_missing', Number.NaN), RangeError);
  });
});

describe('organization settings', () => {
  it('creates on set, changes only the given fields, and null makes a field unlimited', async () => {
    const created = await setOrganizationAdmission(handle.db, 'settings-org', { maxConcurrentStreams: 4 });
    assert.deepEqual(
      { tier: created.tier, minutesBalanceMs: created.minutesBalanceMs, maxConcurrentStreams: created.maxConcurrentStreams },
      { tier: 1, minutesBalanceMs: null, maxConcurrentStreams: 4 },
    );
    const changed = await setOrganizationAdmission(handle.db, 'settings-org', { tier: 0, minutesBalanceMs: 120_000 });
    assert.deepEqual(changed, { ...created, tier: 0, minutesBalanceMs: 120_000 });
    const unlimited = await setOrganizationAdmission(handle.db, 'settings-org', { maxConcurrentStreams: null });
    assert.equal(unlimited.maxConcurrentStreams, null);
    assert.deepEqual(await getOrganizationAdmission(handle.db, 'settings-org'), unlimited);
    await assert.rejects(getOrganizationAdmission(handle.db, 'no-such-org'), /no organization named "no-such-org"/);
  });

  it('validates changes', () => {
    assert.deepEqual(parseAdmissionChanges({ tier: 2, minutesBalanceMs: null }), { tier: 2, minutesBalanceMs: null });
    assert.throws(() => parseAdmissionChanges({ tier: -1 }), /tier must be an integer from 0/);
    assert.throws(() => parseAdmissionChanges({ tier: null }), /tier must be an integer/);
    assert.throws(() => parseAdmissionChanges({ maxConcurrentStreams: 1.5 }), /maxConcurrentStreams must be an integer/);
    assert.throws(() => parseAdmissionChanges({ minutesBalanceMs: '10' }), /minutesBalanceMs must be an integer/);
    assert.throws(() => parseAdmissionChanges(null), RangeError);
  });
});
