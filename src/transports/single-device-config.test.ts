import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSingleDeviceConfig } from './single-device-config.js';

describe('parseSingleDeviceConfig: the forms a client may send to /api/v1/ws/single', () => {
  const expected = { sourceLanguage: 'en-US', targetLanguage: 'es', voice: 'male', sampleRateHz: 48000, speech: true };

  it('reads the canonical, flat, nested and spec-002-named forms alike', () => {
    const forms = [
      { type: 'config', language: 'en-US', translate_language: 'es', voice: 'male', sample_rate: 48000, speech: true },
      { language: 'en-US', translate_language: 'es', voice: 'male', sample_rate: 48000, speech: true },
      { config: { source_language: 'en-US', target_language: 'es', voice: 'male', audio: { sample_rate: 48000 }, speech: true } },
      { type: 'config', config: { language: 'en-US', translate_language: 'es', voice: 'male', sample_rate: 48000, speech: true } },
      { source_language: 'en-US', target_language: 'es', voice: 'male', sample_rate: 48000, speech: true },
    ];
    for (const form of forms) assert.deepEqual(parseSingleDeviceConfig(form), { ok: true, config: expected }, JSON.stringify(form));
  });

  it('applies the defaults: female voice, 16 kHz, no speech', () => {
    assert.deepEqual(parseSingleDeviceConfig({ language: 'en-US', translate_language: 'ca' }), {
      ok: true, config: { sourceLanguage: 'en-US', targetLanguage: 'ca', voice: 'female', sampleRateHz: 16000, speech: false },
    });
  });

  it('names what is wrong', () => {
    const error = (json: unknown): string => {
      const r = parseSingleDeviceConfig(json);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.error;
    };
    assert.match(error([]), /JSON object/);
    assert.match(error('config'), /JSON object/);
    assert.match(error({ type: 'audio', language: 'en-US', translate_language: 'es' }), /Unknown message type "audio"/);
    assert.match(error({ language: 'en-US' }), /"language" and "translate_language"/);
    assert.match(error({ language: 'en-US', translate_language: 'es', sample_rate: 44100 }), /sample_rate: sample_rate must be one of 8000, 16000, 24000, 48000/);
    assert.match(error({ language: 'en-US', translate_language: 'es', voice: 'robot' }), /voice must be "male" or "female"/);
    assert.match(error({ language: 'en-US', translate_language: 'es', speech: 'yes' }), /speech must be true or false/);
    assert.match(error({ language: 'x'.repeat(36), translate_language: 'es' }), /language/);
  });
});
