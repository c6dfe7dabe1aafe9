import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamConfigOf } from '../gateway/stream-service.js';
import { parseVtConfig, vtStreamRequest } from './vt-config.js';

test('a /vt config becomes a StreamRequest and back into the same stream config, every field kept', () => {
  const message = parseVtConfig(JSON.stringify({
    config: {
      audio: { format: 'pcm_s16le', sample_rate: 24000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'male',
      vocabulary: ['Tolk'], translation_dictionary: [{ source: 'Tolk', target: 'Tolk' }], transcript: { interim: true, final: true, translate: false },
      features: { background_voice_cancellation: true }, metadata: { reference_id: 'r1', team: 'a' }, api_key: 'ip_live_x',
    },
  }));
  assert.ok(message.ok);
  const request = vtStreamRequest(message.config, undefined);
  assert.deepEqual(request.credential, { kind: 'key', key: 'ip_live_x' }, 'the config\'s api_key when none came on connect');
  assert.deepEqual(vtStreamRequest(message.config, 'vt_connect').credential, { kind: 'key', key: 'vt_connect' }, 'the key sent on connect wins');
  assert.equal(request.audio.sampleRateHz, 24000);
  const withoutKey: Record<string, unknown> = { ...message.config };
  delete withoutKey.api_key;
  assert.deepEqual(streamConfigOf(request), withoutKey);
});

test('defaults survive the round trip, and absent features and metadata stay absent', () => {
  const message = parseVtConfig(JSON.stringify({ config: { source_language: 'en-US', target_language: 'es-ES', voice: 'female' } }));
  assert.ok(message.ok);
  const config = streamConfigOf(vtStreamRequest(message.config, 'k'));
  assert.deepEqual(config, message.config);
  assert.ok(!('features' in config) && !('metadata' in config));
});
