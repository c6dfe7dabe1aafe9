import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import type { StripeSettings } from '../src/config.js';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { billingAccounts, billingUsage, organizations, stripeWebhookEvents } from '../src/db/schema.js';
import { checkStreamAdmission, MemoryStreamCounter } from '../src/domain/admission.js';
import { createApiKey, ensureOrganization } from '../src/domain/api-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { stripeClient } from '../src/integrations/stripe.js';
import { StripeMeterReporter } from '../src/realtime/stripe-meter-reporter.js';
import { librivoxRecordings, loadWav, startTestServer, testEngines } from './helpers.js';
import { startStripePeer, stripeMockMissing, type StripePeer } from './stripe-peer.js';

// Spec 000 "Billing" and the Stripe webhook (docs/billing.md) against stripe-mock, Stripe's own API
// stand-in, behind a recording proxy: what Tolk sends to Stripe is asserted field by field, and
// stripe-mock refuses any request that does not match Stripe's OpenAPI spec.

type Server = Awaited<ReturnType<typeof startTestServer>>;
const SECRET_KEY = 'sk_test_tolkbilling0000000000';
const WEBHOOK_SECRET = 'whsec_tolk_test_secret_0123456789';
const signer = new Stripe(SECRET_KEY);
const skip = stripeMockMissing();

function stripeSettings(peer: StripePeer, plans: StripeSettings['plans']): StripeSettings {
  return {
    secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: peer.url, plans, meterEventName: 'tolk_translated_minutes',
    meterUnitMs: 60_000, meterIntervalMs: 3_600_000, pastDueGraceMs: 72 * 3_600_000, webhookToleranceS: 300,
  };
}

let eventSeq = 0;
/** A Stripe event envelope (docs.stripe.com/api/events/object) around `object`. */
function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_tolk_${++eventSeq}_${Date.now()}`): string {
  return JSON.stringify({
    id, object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), type,
    data: { object }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null },
  });
}

describe('billing: invoices and the Stripe webhook against stripe-mock (spec 000)', { skip }, () => {
  let server: Server;
  let peer: StripePeer;
  let orgId: string;
  let memberKey: string;
  let adminKey: string;
  let fixturePriceId: string;

  const post = (payload: string, signature?: string) => fetch(`${server.url}/api/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === undefined ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
  const signed = (payload: string, o: { secret?: string; timestamp?: number } = {}) =>
    post(payload, signer.webhooks.generateTestHeaderString({ payload, secret: o.secret ?? WEBHOOK_SECRET, ...(o.timestamp ? { timestamp: o.timestamp } : {}) }));
  const org = async () => (await server.ctx.db.select().from(organizations).where(eq(organizations.id, orgId)))[0];
  const account = async () => (await server.ctx.db.select().from(billingAccounts).where(eq(billingAccounts.organizationId, orgId)))[0];
  const invoices = (key: string) => fetch(`${server.url}/api/billing/invoices`, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    peer = await startStripePeer();
    // stripe-mock answers every subscription with its fixture: the plan table is keyed by that price.
    const fixture = await (await fetch(`${peer.url}/v1/subscriptions/sub_fixture`, { headers: { authorization: `Bearer ${SECRET_KEY}` } })).json() as { items: { data: Array<{ price: { id: string } }> } };
    fixturePriceId = fixture.items.data[0]?.price.id ?? '';
    assert.match(fixturePriceId, /^price_/);
    server = await startTestServer({ stripe: stripeSettings(peer, { [fixturePriceId]: { tier: 2, minutes: 300 }, price_premium: { tier: 3, minutes: null } }) });
    orgId = (await ensureOrganization(server.ctx.db, 'default')).id;
    memberKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' })).key;
    adminKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'admin' })).key;
  });
  after(async () => {
    await server?.close();
    await peer?.close();
    await closeEngines(await testEngines());
  });
  beforeEach(() => {
    peer.requests.length = 0;
  });

  it('invoices: 401 without a key, 403 for a member, [] for an organization without a Stripe customer (no Stripe call)', async () => {
    const none = await fetch(`${server.url}/api/billing/invoices`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const member = await invoices(memberKey);
    assert.equal(member.status, 403);
    assert.deepEqual(((await member.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    const empty = await invoices(adminKey);
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { invoices: [] });
    assert.equal(peer.requests.length, 0);
  });

  it('webhook: checkout.session.completed links customer and subscription, sets tier and minutes from the price', async () => {
    await server.ctx.db.update(organizations).set({ tier: 1, minutesBalanceMs: 0 }).where(eq(organizations.id, orgId));
    const res = await signed(stripeEvent('checkout.session.completed', {
      id: 'cs_test_1', object: 'checkout.session', mode: 'subscription', client_reference_id: orgId,
      customer: 'cus_tolk_1', subscription: 'sub_tolk_1', metadata: {}, status: 'complete',
    }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: true, result: 'handled' });
    // The subscription was read from Stripe for its price: GET /v1/subscriptions/sub_tolk_1.
    const [get] = peer.requests;
    assert.equal(peer.requests.length, 1);
    assert.equal(get?.method, 'GET');
    assert.equal(get?.path, '/v1/subscriptions/sub_tolk_1');
    assert.equal(get?.headers.authorization, `Bearer ${SECRET_KEY}`);
    assert.equal(get?.headers['stripe-version'], Stripe.API_VERSION);
    assert.equal(get?.status, 200);
    const a = await account();
    assert.equal(a?.stripeCustomerId, 'cus_tolk_1');
    assert.equal(a?.stripeSubscriptionId, (get?.response as { id: string }).id);
    assert.equal(a?.stripePriceId, fixturePriceId);
    const o = await org();
    assert.equal(o?.tier, 2);
    assert.equal(o?.minutesBalanceMs, 300 * 60_000);
  });

  it('invoices: GET /v1/invoices?customer=…&limit=24, mapped to spec 000 (currency units, ISO 8601, upper-case currency)', async () => {
    const res = await invoices(adminKey);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { invoices: Array<Record<string, unknown>> };
    assert.equal(peer.requests.length, 1);
    const [req] = peer.requests;
    assert.equal(req?.method, 'GET');
    assert.equal(req?.path, '/v1/invoices');
    assert.deepEqual(req?.query, { customer: 'cus_tolk_1', limit: '24' });
    assert.equal(req?.headers.authorization, `Bearer ${SECRET_KEY}`);
    assert.equal(req?.headers['stripe-version'], Stripe.API_VERSION);
    assert.equal(req?.status, 200);
    const stripeInvoices = (req?.response as { data: Array<Record<string, unknown>> }).data;
    assert.ok(stripeInvoices.length >= 1);
    assert.deepEqual(body.invoices, stripeInvoices.map((i) => ({
      id: i.id, number: i.number, status: i.status, amountPaid: (i.amount_paid as number) / 100,
      currency: String(i.currency).toUpperCase(), createdAt: new Date((i.created as number) * 1000).toISOString(),
      hostedInvoiceUrl: i.hosted_invoice_url, invoicePdf: i.invoice_pdf,
    })));
    assert.equal(body.invoices[0]?.createdAt, '2009-02-13T23:31:30.000Z'); // stripe-mock's `created`: 1234567890
  });

  it('invoices: Stripe refusing (a customer deleted in Stripe) is 500 INTERNAL_ERROR, never Stripe\'s own 404', async () => {
    peer.refuseNext('/v1/invoices', 1, 404, "No such customer: 'cus_tolk_1'");
    const res = await invoices(adminKey);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { code: 'INTERNAL_ERROR', message: 'Stripe could not list the invoices; try again later (the server log has the details)' } });
    assert.deepEqual(peer.requests.map((r) => [r.path, r.status]), [['/v1/invoices', 404]]);
  });

  it('webhook: when Stripe fails while an event is handled, the answer is 500 and nothing is recorded, so the redelivery is handled', async () => {
    const payload = stripeEvent('checkout.session.completed', {
      id: 'cs_test_retry', object: 'checkout.session', mode: 'subscription', client_reference_id: orgId,
      customer: 'cus_tolk_1', subscription: 'sub_gone', metadata: {},
    });
    peer.refuseNext('/v1/subscriptions/sub_gone', 1, 404, "No such subscription: 'sub_gone'");
    const failed = await signed(payload);
    assert.equal(failed.status, 500);
    assert.equal(((await failed.json()) as { error: { code: string } }).error.code, 'INTERNAL_ERROR');
    const id = (JSON.parse(payload) as { id: string }).id;
    assert.equal((await server.ctx.db.select().from(stripeWebhookEvents).where(eq(stripeWebhookEvents.id, id))).length, 0);
    const redelivered = await signed(payload);
    assert.deepEqual(await redelivered.json(), { received: true, result: 'handled' });
    assert.deepEqual(peer.requests.map((r) => [r.path, r.status]), [['/v1/subscriptions/sub_gone', 404], ['/v1/subscriptions/sub_gone', 200]]);
  });

  it('webhook: a redelivered event id is acknowledged and not acted on again', async () => {
    const payload = stripeEvent('checkout.session.completed', {
      id: 'cs_test_2', object: 'checkout.session', mode: 'subscription', client_reference_id: orgId,
      customer: 'cus_tolk_1', subscription: 'sub_tolk_1', metadata: {},
    });
    assert.deepEqual(await (await signed(payload)).json(), { received: true, result: 'handled' });
    await server.ctx.db.update(organizations).set({ minutesBalanceMs: 5 }).where(eq(organizations.id, orgId));
    const again = await signed(payload);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { received: true, result: 'duplicate' });
    assert.equal((await org())?.minutesBalanceMs, 5); // not reset to the plan's 300 minutes a second time
    const id = (JSON.parse(payload) as { id: string }).id;
    assert.equal((await server.ctx.db.select().from(stripeWebhookEvents).where(eq(stripeWebhookEvents.id, id))).length, 1);
  });

  it('webhook: a bad signature, a foreign secret, a tampered body, an expired timestamp and no header are 400, and nothing is recorded', async () => {
    const payload = stripeEvent('customer.subscription.deleted', { id: 'sub_tolk_1', object: 'subscription', customer: 'cus_tolk_1', status: 'canceled', items: { object: 'list', data: [] } });
    const cases: Array<[string, Promise<Response>]> = [
      ['no header', post(payload)],
      ['garbage', post(payload, 't=1,v1=deadbeef')],
      ['foreign secret', signed(payload, { secret: 'whsec_someone_else' })],
      ['tampered body', post(payload.replace('cus_tolk_1', 'cus_other'), signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }))],
      ['outside the 300 s tolerance', signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ];
    for (const [what, response] of cases) {
      const res = await response;
      assert.equal(res.status, 400, what);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'BAD_REQUEST', what);
      assert.match(body.error.message, /Stripe-Signature|Invalid Stripe signature/, what);
    }
    assert.equal((await org())?.tier, 2); // the deletion was never applied
    const id = (JSON.parse(payload) as { id: string }).id;
    assert.equal((await server.ctx.db.select().from(stripeWebhookEvents).where(eq(stripeWebhookEvents.id, id))).length, 0);
  });

  it('webhook: invoice.payment_failed puts the organization past due; streams are refused with 402 once the grace period is over', async () => {
    const counter = new MemoryStreamCounter();
    const admit = () => checkStreamAdmission(server.ctx.db, counter, { organizationId: orgId, sourceLanguage: 'en', targetLanguage: 'es', voice: 'female' });
    await server.ctx.db.update(organizations).set({ minutesBalanceMs: 60_000 }).where(eq(organizations.id, orgId));
    const failed = await signed(stripeEvent('invoice.payment_failed', { id: 'in_fail_1', object: 'invoice', customer: 'cus_tolk_1', status: 'open', amount_paid: 0, currency: 'usd' }));
    assert.deepEqual(await failed.json(), { received: true, result: 'handled' });
    const a = await account();
    assert.equal(a?.subscriptionStatus, 'past_due');
    assert.ok(a?.pastDueSince && a.streamsRefusedAfter);
    // The 72 h grace of the settings: refused only from past_due_since + 72 h.
    assert.equal(a.streamsRefusedAfter.getTime() - a.pastDueSince.getTime(), 72 * 3_600_000);
    assert.equal((await admit()).ok, true);
    // The grace period is over:
    await server.ctx.db.update(billingAccounts).set({ streamsRefusedAfter: new Date(Date.now() - 1000) }).where(eq(billingAccounts.organizationId, orgId));
    const refused = await admit();
    assert.deepEqual(refused, { ok: false, status: 402, description: 'Subscription past due: the last invoice was not paid within the grace period; pay it to stream again' });
  });

  it('webhook: invoice.payment_succeeded renews the minutes from the plan and lifts the past-due refusal; invoice.paid does the same', async () => {
    await server.ctx.db.update(organizations).set({ minutesBalanceMs: -500 }).where(eq(organizations.id, orgId));
    const paid = await signed(stripeEvent('invoice.payment_succeeded', { id: 'in_ok_1', object: 'invoice', customer: 'cus_tolk_1', status: 'paid', amount_paid: 4900, currency: 'usd' }));
    assert.deepEqual(await paid.json(), { received: true, result: 'handled' });
    assert.equal((await org())?.minutesBalanceMs, 300 * 60_000);
    const a = await account();
    assert.equal(a?.pastDueSince, null);
    assert.equal(a?.streamsRefusedAfter, null);
    assert.equal(a?.subscriptionStatus, 'active');
    const admitted = await checkStreamAdmission(server.ctx.db, new MemoryStreamCounter(), { organizationId: orgId, sourceLanguage: 'en', targetLanguage: 'es', voice: 'female' });
    assert.equal(admitted.ok, true);
    await server.ctx.db.update(organizations).set({ minutesBalanceMs: 7 }).where(eq(organizations.id, orgId));
    await signed(stripeEvent('invoice.paid', { id: 'in_ok_2', object: 'invoice', customer: 'cus_tolk_1', status: 'paid', amount_paid: 4900, currency: 'usd' }));
    assert.equal((await org())?.minutesBalanceMs, 300 * 60_000);
    assert.equal(peer.requests.length, 0); // no Stripe call: the price is the one stored at checkout
  });

  it('webhook: customer.subscription.updated sets the tier of the new price; .deleted drops to tier 0', async () => {
    const sub = (priceId: string, status: string) => ({
      id: 'sub_tolk_1', object: 'subscription', customer: 'cus_tolk_1', status,
      items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', price: { id: priceId, object: 'price' } }] },
    });
    const updated = await signed(stripeEvent('customer.subscription.updated', sub('price_premium', 'active')));
    assert.deepEqual(await updated.json(), { received: true, result: 'handled' });
    assert.equal((await org())?.tier, 3);
    assert.equal((await account())?.stripePriceId, 'price_premium');
    const deleted = await signed(stripeEvent('customer.subscription.deleted', sub('price_premium', 'canceled')));
    assert.deepEqual(await deleted.json(), { received: true, result: 'handled' });
    assert.equal((await org())?.tier, 0);
    const a = await account();
    assert.equal(a?.stripeSubscriptionId, null);
    assert.equal(a?.subscriptionStatus, 'canceled');
    assert.equal(a?.stripeCustomerId, 'cus_tolk_1'); // invoices stay listed
  });

  it('a live /vt stream\'s audio is counted and reaches the Stripe meter (in seconds: STRIPE_METER_UNIT=second)', async () => {
    const recorded = async () => (await server.ctx.db.select().from(billingUsage).where(eq(billingUsage.organizationId, orgId)))[0]?.recordedMs ?? 0;
    const before = await recorded();
    const r = librivoxRecordings().find((x) => x.id.endsWith('0880'));
    assert.ok(r);
    const { samples, sampleRateHz } = loadWav(r.path);
    const url = vtUrl(server.url, await fetchSessionKey(server.url, server.apiKey, 600));
    // Tier 0 since the subscription was deleted: a same-language stream (transcription) is what it allows.
    const config = { audio: { format: 'pcm_s16le', sample_rate: sampleRateHz, channels: 1 }, source_language: 'en-US', target_language: 'en-US', voice: 'female' };
    const result = await streamAudio({ url, config, samples, sampleRateHz, realtime: false, trailingSilenceMs: 1000 });
    assert.deepEqual(result.events.filter((e) => e.kind === 'error'), []);
    // The stream's usage is charged as it ends, after the client saw the close: wait for it.
    for (let waited = 0; (await recorded()) === before; waited += 20) {
      assert.ok(waited < 10_000, 'the stream\'s usage was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const audioMs = Math.ceil(((samples.length + sampleRateHz) * 1000) / sampleRateHz); // the recording and its 1 s of trailing silence
    assert.equal((await recorded()) - before, audioMs);
    const stripe = stripeClient(server.ctx.config.stripe);
    assert.ok(stripe);
    const reporter = new StripeMeterReporter(server.ctx.db, stripe, { ...server.ctx.config.stripe, meterUnitMs: 1000 });
    assert.deepEqual(await reporter.runOnce(), { claimed: 1, sent: 1, failed: 0 });
    const sent = peer.requests.filter((q) => q.path === '/v1/billing/meter_events');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.status, 200);
    assert.equal(sent[0]?.form['payload[stripe_customer_id]'], 'cus_tolk_1');
    assert.equal(sent[0]?.form['payload[value]'], String(Math.floor((await recorded() - before) / 1000)));
    assert.equal(sent[0]?.form.identifier, `tolk-${orgId}-${before}-${before + Math.floor(audioMs / 1000) * 1000}`);
  });

  it('webhook: other event types are acknowledged and ignored; a body that is not an event is 400', async () => {
    const other = await signed(stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }));
    assert.equal(other.status, 200);
    assert.deepEqual(await other.json(), { received: true, result: 'ignored' });
    const notJson = await signed('not json');
    assert.equal(notJson.status, 400);
  });
});

describe('billing without Stripe configured', () => {
  let server: Server;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('invoices answer 501 NOT_IMPLEMENTED naming the settings (403 for a member first); the webhook is 501 too', async () => {
    const member = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' })).key;
    const forbidden = await fetch(`${server.url}/api/billing/invoices`, { headers: { authorization: `Bearer ${member}` } });
    assert.equal(forbidden.status, 403);
    const res = await fetch(`${server.url}/api/billing/invoices`, { headers: { authorization: `Bearer ${server.apiKey}` } });
    assert.equal(res.status, 501);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_IMPLEMENTED');
    assert.match(body.error.message, /STRIPE_SECRET_KEY/);
    const hook = await fetch(`${server.url}/api/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' }, body: '{}' });
    assert.equal(hook.status, 501);
    assert.match(((await hook.json()) as { error: { message: string } }).error.message, /STRIPE_WEBHOOK_SECRET/);
  });
});
