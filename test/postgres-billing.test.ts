import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import type { StripeSettings } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { organizations } from '../src/db/schema.js';
import { ensureOrganization } from '../src/domain/api-keys.js';
import { handleStripeEventOnce } from '../src/domain/billing.js';
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

describe('stripe webhook on Postgres: one event delivered twice at the same time is acted on once', {
  skip: pgUrl ? false : 'no TOLK_TEST_DATABASE_URL (make test sets it when Postgres answers)',
}, () => {
  let scratch: { url: string; drop(): Promise<void> };
  before(async () => {
    scratch = await createScratchDatabase(pgUrl ?? '');
  });
  after(async () => {
    await scratch?.drop();
  });

  it('the second delivery waits on the first one\'s event id, then finds it: handled + duplicate, one effect', async () => {
    // Two processes' pools and a third connection that watches them.
    const [one, two, watch] = await Promise.all([0, 1, 2].map(() => openDatabase({ dataDir: 'memory://', databaseUrl: scratch.url })));
    try {
      const orgId = (await ensureOrganization(one!.db, 'dup')).id;
      const event = { id: 'evt_concurrent_1', type: 'customer.subscription.updated' };
      const bump = async (tx: Parameters<Parameters<typeof handleStripeEventOnce>[2]>[0]) => {
        await tx.update(organizations).set({ tier: sql`${organizations.tier} + 1` }).where(eq(organizations.id, orgId));
      };
      let inside!: () => void;
      const firstInside = new Promise<void>((resolve) => (inside = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const first = handleStripeEventOnce(one!.db, event, async (tx) => {
        await bump(tx);
        inside();
        await gate; // the event id is inserted, not committed
      });
      await firstInside;
      const second = handleStripeEventOnce(two!.db, event, bump);
      // Wait until the second delivery is blocked on the first's uncommitted event id.
      for (;;) {
        const rows = await watch!.db.execute(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if (Number((rows as unknown as { rows: Array<{ n: number }> }).rows[0]?.n ?? 0) > 0) break;
        await new Promise((r) => setImmediate(r));
      }
      release();
      assert.deepEqual(await Promise.all([first, second]), ['handled', 'duplicate']);
      const [org] = await one!.db.select({ tier: organizations.tier }).from(organizations).where(eq(organizations.id, orgId));
      assert.equal(org?.tier, 2); // the default 1, bumped once
    } finally {
      await Promise.all([one, two, watch].map((h) => h?.close()));
    }
  });
});
