import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, parseStripePlans } from '../config.js';
import { meterEventIdentifier } from './billing-meter.js';
import { invoiceSummary, toCurrencyUnits } from './billing.js';

describe('billing: invoice mapping (spec 000 GET /api/billing/invoices)', () => {
  it('amounts in the smallest unit become currency units, by the currency\'s decimals', () => {
    assert.equal(toCurrencyUnits(4900, 'usd'), 49);
    assert.equal(toCurrencyUnits(4999, 'EUR'), 49.99);
    assert.equal(toCurrencyUnits(5000, 'jpy'), 5000); // zero-decimal
    assert.equal(toCurrencyUnits(12_345, 'kwd'), 12.345); // three-decimal
    assert.equal(toCurrencyUnits(0, 'usd'), 0);
  });

  it('maps Stripe\'s invoice fields to spec 000\'s, nulls kept', () => {
    assert.deepEqual(invoiceSummary({
      id: 'in_1', number: 'INV-0001', status: 'paid', amount_paid: 4900, currency: 'usd', created: 1_775_001_600,
      hosted_invoice_url: 'https://invoice.stripe.com/i/x', invoice_pdf: 'https://pay.stripe.com/invoice/x/pdf',
    }), {
      id: 'in_1', number: 'INV-0001', status: 'paid', amountPaid: 49, currency: 'USD', createdAt: '2026-04-01T00:00:00.000Z',
      hostedInvoiceUrl: 'https://invoice.stripe.com/i/x', invoicePdf: 'https://pay.stripe.com/invoice/x/pdf',
    });
    const draft = invoiceSummary({ id: 'in_2', number: null, status: 'draft', amount_paid: 0, currency: 'jpy', created: 0, hosted_invoice_url: null });
    assert.deepEqual([draft.number, draft.hostedInvoiceUrl, draft.invoicePdf, draft.currency], [null, null, null, 'JPY']);
  });

  it('meter identifiers are derived from the organization and the range only', () => {
    assert.equal(meterEventIdentifier('org_abc', 0, 120_000), 'tolk-org_abc-0-120000');
    assert.equal(meterEventIdentifier('org_abc', 0, 120_000), meterEventIdentifier('org_abc', 0, 120_000));
  });
});

describe('billing settings', () => {
  it('STRIPE_PRICE_PLANS: a price → {tier, minutes} table; anything else is refused naming the field', () => {
    assert.deepEqual(parseStripePlans(undefined), {});
    assert.deepEqual(parseStripePlans('{"price_a":{"tier":1,"minutes":1000},"price_b":{"tier":2,"minutes":null}}'), {
      price_a: { tier: 1, minutes: 1000 }, price_b: { tier: 2, minutes: null },
    });
    assert.throws(() => parseStripePlans('nope'), /STRIPE_PRICE_PLANS: not JSON/);
    assert.throws(() => parseStripePlans('{"price_a":{"tier":-1,"minutes":5}}'), /STRIPE_PRICE_PLANS\.price_a\.tier/);
    assert.throws(() => parseStripePlans('{"price_a":{"tier":1}}'), /STRIPE_PRICE_PLANS\.price_a\.minutes/);
    assert.throws(() => parseStripePlans('{"price_a":{"tier":1,"minutes":5,"extra":1}}'), /STRIPE_PRICE_PLANS\.price_a/);
  });

  it('defaults, units and the Vapi base URL', () => {
    const c = loadConfig({});
    assert.deepEqual({ ...c.stripe }, {
      secretKey: undefined, webhookSecret: undefined, apiBase: undefined, plans: {}, meterEventName: 'tolk_translated_minutes',
      meterUnitMs: 60_000, meterIntervalMs: 60_000, pastDueGraceMs: 72 * 3_600_000, webhookToleranceS: 300,
    });
    assert.deepEqual({ ...c.vapi }, { apiKey: undefined, assistantId: undefined, phoneNumberId: undefined, apiBase: 'https://api.vapi.ai', webhookSecret: undefined });
    const s = loadConfig({ STRIPE_METER_UNIT: 'second', STRIPE_PAST_DUE_GRACE_HOURS: '0.5', VAPI_API_BASE: 'http://127.0.0.1:9/' });
    assert.equal(s.stripe.meterUnitMs, 1000);
    assert.equal(s.stripe.pastDueGraceMs, 1_800_000);
    assert.equal(s.vapi.apiBase, 'http://127.0.0.1:9');
    assert.throws(() => loadConfig({ VAPI_WEBHOOK_SECRET: 'short' }), /VAPI_WEBHOOK_SECRET: use at least 16 characters/);
    assert.throws(() => loadConfig({ STRIPE_METER_UNIT: 'hour' }), /STRIPE_METER_UNIT/);
  });
});
