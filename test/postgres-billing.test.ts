import { after, before, describe, it } from 'node:test';
import type { StripeSettings } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { meterRestartScenario } from './billing-meter-scenario.js';
import { createScratchDatabase, testPostgresUrl } from './helpers.js';
import { startStripePeer, stripeMockMissing, type StripePeer } from './stripe-peer.js';

// Usage to Stripe Billing Meters on a real Postgres (docs/billing.md "Usage"), against stripe-mock:
// 7 minutes across sessions reach Stripe as 7 minutes once, across a restart, with two processes'
// connection pools reporting at the same time (claims use FOR UPDATE SKIP LOCKED, sends a lease).

const pgUrl = testPostgresUrl();
const skip = stripeMockMissing() || (pgUrl ? false : 'no TOLK_TEST_DATABASE_URL (make test sets it when Postgres answers)');

describe('stripe meter on Postgres: 7 minutes reported once across a restart and two concurrent reporters', { skip }, () => {
  let peer: StripePeer;
  let scratch: { url: string; drop(): Promise<void> };
  before(async () => {
    peer = await startStripePeer();
    scratch = await createScratchDatabase(pgUrl ?? '');
  });
  after(async () => {
    await peer?.close();
    await scratch?.drop();
  });

  it('meter events sum to 7 minutes, each identifier counted once', async () => {
    const settings: StripeSettings = {
      secretKey: 'sk_test_tolkmeter', webhookSecret: undefined, apiBase: peer.url, plans: {}, meterEventName: 'tolk_translated_minutes',
      meterUnitMs: 60_000, meterIntervalMs: 60_000, pastDueGraceMs: 0, webhookToleranceS: 300,
    };
    const open = () => openDatabase({ dataDir: 'memory://', databaseUrl: scratch.url });
    await meterRestartScenario(peer, settings, open, open);
  });
});
