import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { ApertiumMt, discoverApertiumModes } from './apertium.js';

const mt = new ApertiumMt();
after(() => mt.close());

it('discovers the installed English pairs with null-flush stages', () => {
  const modes = discoverApertiumModes();
  const engSpa = modes.find((m) => m.source === 'en' && m.target === 'es');
  assert.ok(engSpa, 'apertium-eng-spa is not installed');
  assert.ok(engSpa.pipeline.split(' | ').every((stage) => / -z\b/.test(stage)));
});

it('translates through a warm pipeline and keeps glossary slots in place', async () => {
  const out = await mt.translate(['the ', { slot: 0 }, ' is due today'], { source: 'en', target: 'es' });
  assert.ok(out.some((p) => typeof p !== 'string' && p.slot === 0), JSON.stringify(out));
  const plain = await mt.translate(['he was not an ill disposed young man'], { source: 'en', target: 'es' });
  assert.match(plain.join(''), /hombre joven/);
});

it('survives characters that are special in the Apertium stream format', async () => {
  const out = await mt.translate(['hello [world] ^my$ friend / @home <b>'], { source: 'en', target: 'es' });
  assert.match(out.join(''), /amigo/);
  const after = await mt.translate(['good morning'], { source: 'en', target: 'es' });
  assert.match(after.join('').toLowerCase(), /buenos/);
});
