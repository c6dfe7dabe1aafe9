import assert from 'node:assert/strict';
import { it } from 'node:test';
import { protectTerms, restoreTerms } from './glossary.js';

it('slots whole-word, case-insensitive matches, longest term first', () => {
  const { input, targets } = protectTerms('The Copay and the copayment', [
    { source: 'copay', target: 'quote-part' },
    { source: 'copayment', target: 'paiement' },
  ]);
  assert.deepEqual(input, ['The ', { slot: 0 }, ' and the ', { slot: 1 }]);
  assert.deepEqual(targets, ['quote-part', 'paiement']);
});

it('writes the target terms back and appends a slot the engine dropped', () => {
  assert.equal(restoreTerms(['La ', { slot: 0 }, ' es'], ['quote-part']), 'La quote-part es');
  assert.equal(restoreTerms(['La es'], ['quote-part']), 'La es quote-part');
});

it('leaves text without dictionary terms unchanged', () => {
  assert.deepEqual(protectTerms('hello there', [{ source: 'email', target: 'courriel' }]).input, ['hello there']);
});
