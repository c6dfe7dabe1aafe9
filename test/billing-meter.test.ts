import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StripeSettings } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { meterRestartScenario } from './billing-meter-scenario.js';
import { startStripePeer, stripeMockMissing, type StripePeer } from './stripe-peer.js';

// Usage to Stripe Billing Meters on the embedded PGlite (docs/billing.md "Usage"), against
// stripe-mock: 7 minutes across sessions and a restart reach Stripe as 7 minutes, once.
// test/postgres-billing.test.ts runs the same scenario on Postgres with two processes' pools.

describe('stripe meter: 7 minutes across sessions and a restart are reported once (PGlite)', { skip: stripeMockMissing() }, () => {
  let peer: StripePeer;
  let dataDir: string;
  before(async () => {
    peer = await startStripePeer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-meter-'));
  });
  after(async () => {
    await peer?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('meter events sum to 7 minutes, each identifier counted once, after a lost answer and a crash between claim and send', async () => {
    const settings: StripeSettings = {
      secretKey: 'sk_test_tolkmeter', webhookSecret: undefined, apiBase: peer.url, plans: {}, meterEventName: 'tolk_translated_minutes',
      meterUnitMs: 60_000, meterIntervalMs: 60_000, pastDueGraceMs: 0, webhookToleranceS: 300,
    };
    await meterRestartScenario(peer, settings, () => openDatabase({ dataDir }));
  });
});
