import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeReason, MAX_CLOSE_REASON_BYTES } from './close-reason.js';

describe('closeReason', () => {
  it('keeps short reasons and cuts long ones at 123 UTF-8 bytes without splitting a character', () => {
    assert.equal(closeReason('Invalid voice'), 'Invalid voice');
    const accented = closeReason(`Invalid voice "${'é'.repeat(100)}"`);
    assert.ok(Buffer.byteLength(accented, 'utf8') <= MAX_CLOSE_REASON_BYTES);
    assert.ok(accented.startsWith('Invalid voice "éé'));
    assert.ok(!accented.includes('\uFFFD'));
    const emoji = closeReason('🎙'.repeat(40));
    assert.equal(emoji, '🎙'.repeat(30)); // 4 bytes each: 30 × 4 = 120
  });
});
