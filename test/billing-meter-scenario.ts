import assert from 'node:assert/strict';
import Stripe from 'stripe';
import type { StripeSettings } from '../src/config.js';
import type { DatabaseHandle } from '../src/db/client.js';
import { recordUsage } from '../src/domain/admission.js';
import { ensureOrganization } from '../src/domain/api-keys.js';
import { claimMeterEvents, meterTotals } from '../src/domain/billing-meter.js';
import { linkCheckout } from '../src/domain/billing.js';
import { addSessionUsage, createSession } from '../src/domain/sessions.js';
import { stripeClient } from '../src/integrations/stripe.js';
import { StripeMeterReporter } from '../src/realtime/stripe-meter-reporter.js';
import type { StripePeer } from './stripe-peer.js';

/**
 * The meter scenario of docs/billing.md "Usage", shared by the PGlite and the Postgres runs: 7 minutes
 * of live audio over three sessions, reported while the process restarts in between, must reach
 * Stripe as meter events summing to 7 minutes, each counted once:
 * 1. process A: 150 s recorded; a run sends 2 minutes, and the first answer is lost on the way back
 *    (the client resends with the same identifier and Idempotency-Key, so Stripe counts it once);
 * 2. process A: 200 s more; 3 minutes are claimed into the outbox, then A stops before sending (crash);
 * 3. process B (restart): 70 s more; two reporters run at once (one per connection pool where the
 *    database allows two): they send A's pending 3 minutes and claim and send the last 2;
 * 4. a further run finds nothing to claim or send.
 * @param open - opens the database as a new process would (same data each time).
 * @param openSecond - a second handle on the same database for a concurrent reporter, when possible.
 */
export async function meterRestartScenario(peer: StripePeer, settings: StripeSettings, open: () => Promise<DatabaseHandle>, openSecond?: () => Promise<DatabaseHandle>): Promise<void> {
  const stripe = stripeClient(settings);
  assert.ok(stripe);
  const claimOptions = { eventName: settings.meterEventName, unitMs: settings.meterUnitMs };
  /** What a live stream's end does: the session's usage and the organization's charge. */
  const streamed = async (h: DatabaseHandle, sessionId: string, orgId: string, ms: number) => {
    await addSessionUsage(h.db, sessionId, ms);
    await recordUsage(h.db, orgId, ms);
  };

  const a = await open();
  const orgId = (await ensureOrganization(a.db, 'metered')).id;
  await a.db.transaction((tx) => linkCheckout(tx, orgId, { customerId: 'cus_meter', subscriptionId: 'sub_meter', priceId: null, status: 'active' }, undefined));
  const session = async (h: DatabaseHandle) => (await createSession(h.db, { organizationId: orgId, createdByKeyId: 'key_test', sourceLang: 'en', targetLang: 'es', speakerName: 'S', creatorRole: 'owner' })).session.id;
  const s1 = await session(a);
  const s2 = await session(a);
  await streamed(a, s1, orgId, 100_000);
  await streamed(a, s2, orgId, 50_000);
  peer.dropAnswers('/v1/billing/meter_events', 1);
  assert.deepEqual(await new StripeMeterReporter(a.db, stripe, settings).runOnce(), { claimed: 1, sent: 1, failed: 0 });
  await streamed(a, s2, orgId, 200_000);
  const claimed = await claimMeterEvents(a.db, claimOptions);
  assert.deepEqual(claimed.map((r) => [r.value, r.fromMs, r.toMs]), [[3, 120_000, 300_000]]);
  await a.close(); // process A ends before sending what it claimed

  const b = await open();
  const b2 = openSecond ? await openSecond() : b;
  try {
    const s3 = await session(b);
    await streamed(b, s3, orgId, 70_000);
    const runs = await Promise.all([new StripeMeterReporter(b.db, stripe, settings).runOnce(), new StripeMeterReporter(b2.db, stripe, settings).runOnce()]);
    assert.equal(runs.reduce((n, r) => n + r.claimed, 0), 1);
    assert.equal(runs.reduce((n, r) => n + r.sent, 0), 2);
    assert.equal(runs.reduce((n, r) => n + r.failed, 0), 0);
    assert.deepEqual(await new StripeMeterReporter(b.db, stripe, settings).runOnce(), { claimed: 0, sent: 0, failed: 0 });
    assert.deepEqual(await meterTotals(b.db, orgId), { recordedMs: 420_000, reportedMs: 420_000, sentMs: 420_000 });
  } finally {
    if (b2 !== b) await b2.close();
    await b.close();
  }
  assertMeterRequests(peer, settings, orgId);
}

/** Every meter request as Stripe's API reference defines it, and 7 minutes once per identifier. */
function assertMeterRequests(peer: StripePeer, settings: StripeSettings, orgId: string): void {
  const sent = peer.requests.filter((r) => r.path === '/v1/billing/meter_events');
  const byIdentifier = new Map<string, typeof sent>();
  for (const r of sent) {
    assert.equal(r.method, 'POST');
    assert.equal(r.status, 200, JSON.stringify(r.response)); // stripe-mock validated the request
    assert.match(String(r.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.equal(r.headers.authorization, `Bearer ${settings.secretKey}`);
    assert.equal(r.headers['stripe-version'], Stripe.API_VERSION);
    assert.equal(r.headers['idempotency-key'], r.form.identifier);
    assert.deepEqual(Object.keys(r.form).sort(), ['event_name', 'identifier', 'payload[stripe_customer_id]', 'payload[value]', 'timestamp']);
    assert.equal(r.form.event_name, settings.meterEventName);
    assert.equal(r.form['payload[stripe_customer_id]'], 'cus_meter');
    assert.match(r.form['payload[value]'] ?? '', /^[1-9]\d*$/);
    assert.ok(Math.abs(Number(r.form.timestamp) - Date.now() / 1000) < 3600, 'timestamp: the claim time, Unix seconds');
    const list = byIdentifier.get(r.form.identifier ?? '') ?? [];
    list.push(r);
    byIdentifier.set(r.form.identifier ?? '', list);
  }
  for (const [identifier, list] of byIdentifier) {
    for (const r of list) assert.deepEqual(r.form, list[0]?.form, `a resend of ${identifier} is the same request`);
  }
  assert.deepEqual([...byIdentifier.keys()].sort(), [`tolk-${orgId}-0-120000`, `tolk-${orgId}-120000-300000`, `tolk-${orgId}-300000-420000`].sort());
  const minutes = [...byIdentifier.values()].reduce((sum, list) => sum + Number(list[0]?.form['payload[value]']), 0);
  assert.equal(minutes, 7);
  // The lost answer was resent once by the client (same identifier: Stripe counts it once); no other event went twice.
  assert.deepEqual(sent.filter((r) => r.dropped).map((r) => r.form.identifier), [`tolk-${orgId}-0-120000`]);
  assert.deepEqual([...byIdentifier.values()].map((l) => l.length).sort(), [1, 1, 2]);
}
