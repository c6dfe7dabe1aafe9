import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeStt } from '../providers/testing/index.js';
import { processCpuMs, sttCostMeter } from '../realtime/realtime-budget.js';
import { Preemption, preemptionStats, preemptiveFromEnv, type SpokenTranslation } from './preemptive-synthesis.js';

/** A speculation's work whose end the test decides. */
function deferredWork(): { run: (text: string) => Promise<SpokenTranslation>; finish(): void; fail(): void; texts: string[] } {
  const texts: string[] = [];
  let settle: { resolve: (s: SpokenTranslation) => void; reject: (e: Error) => void } | undefined;
  return {
    texts,
    run: (text) => {
      texts.push(text);
      return new Promise((resolve, reject) => (settle = { resolve, reject }));
    },
    finish: () => settle?.resolve({ translation: `tr(${texts.at(-1)})`, pcm: [Buffer.from([1, 2, 3, 4])] }),
    fail: () => settle?.reject(new Error('engine down')),
  };
}

/** Engine work of a speculation: CPU busy for `ms` (what an engine process would spend). */
function busy(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) { /* engine work */ }
}

describe('Preemption', () => {
  it('gives the final its speculation when it says the same text, and counts it used', async () => {
    const work = deferredWork();
    const p = new Preemption(work.run);
    const before = preemptionStats();
    p.speculate('u1', 'hello there');
    const taken = p.take('u1', 'hello there');
    work.finish();
    assert.deepEqual(await taken, { translation: 'tr(hello there)', pcm: [Buffer.from([1, 2, 3, 4])] });
    assert.equal(preemptionStats().used - before.used, 1);
    assert.equal(p.take('u1', 'hello there'), undefined, 'taken once');
  });

  it('discards a speculation whose final differs or whose speech resumed; a failed one leaves the final to be translated', async () => {
    const work = deferredWork();
    const p = new Preemption(work.run);
    const before = preemptionStats();
    p.speculate('u1', 'hello');
    p.discard(); // speech resumed
    work.finish();
    p.speculate('u1', 'hello there');
    assert.equal(p.take('u1', 'hello there friend'), undefined);
    work.finish();
    p.speculate('u2', 'good morning');
    const taken = p.take('u2', 'good morning');
    work.fail();
    assert.equal(await taken, undefined);
    const s = preemptionStats();
    assert.deepEqual([s.started - before.started, s.used - before.used, s.discarded - before.discarded], [3, 0, 3]);
  });

  it('adds the engine time of discarded speculations to the real-time budget\'s cost meter', async () => {
    const meter = sttCostMeter(new FakeStt());
    const extra = (): number => meter.cpuMs() - processCpuMs();
    const before = { extra: extra(), discardedMs: preemptionStats().discardedEngineMs };
    const p = new Preemption(async () => {
      busy(30);
      return { translation: 'x', pcm: [] };
    });
    p.speculate('u1', 'hello');
    p.discard();
    await p.take('u1', 'hello'); // nothing held any more: resolves at once
    await new Promise<void>((resolve) => setImmediate(resolve)); // the speculation's work settles
    const discardedMs = preemptionStats().discardedEngineMs - before.discardedMs;
    assert.ok(discardedMs >= 30, `discarded engine time ${discardedMs} ms`);
    assert.ok(Math.abs(extra() - before.extra - discardedMs) < 1, `the meter counts ${extra() - before.extra} ms more`);
  });

  it('is on unless TOLK_PREEMPTIVE is off', () => {
    assert.equal(preemptiveFromEnv({}), true);
    assert.equal(preemptiveFromEnv({ TOLK_PREEMPTIVE: 'on' }), true);
    assert.equal(preemptiveFromEnv({ TOLK_PREEMPTIVE: 'off' }), false);
  });
});
