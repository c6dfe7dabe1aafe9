import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SonioxError } from '../src/providers/stt/soniox-protocol.js';
import { sonioxSttEngine, sonioxSttSettings, type SonioxStt } from '../src/providers/stt/soniox.js';
import { sonioxMtEngine } from '../src/providers/mt/soniox.js';
import type { SttStream, SttTranscript } from '../src/providers/stt/types.js';
import {
  FAKE_SONIOX_LANGUAGES, sonioxConfigProblem, startFakeSoniox, tokens, translationTokens, type FakeSoniox,
} from './fakes/soniox-server.js';

/**
 * Contract of the `soniox` engines against a stand-in that speaks Soniox's documented real-time
 * protocol (test/fakes/soniox-server.ts): the configuration sent field by field, audio bytes,
 * token → transcript mapping, Soniox's endpointing, manual finalization, translation, errors,
 * timeouts and the end of a session.
 */

const API_KEY = 'soniox-test-key';

/** What a stream yielded, with a way to wait for more. */
function collect(stream: SttStream): { items: SttTranscript[]; error: () => unknown; until: (n: number) => Promise<void>; done: Promise<void> } {
  const items: SttTranscript[] = [];
  let error: unknown;
  let wake: (() => void) | undefined;
  const done = (async () => {
    try {
      for await (const t of stream) {
        items.push(t);
        wake?.();
      }
    } catch (err) {
      error = err;
    }
    wake?.();
  })();
  let finished = false;
  void done.then(() => (finished = true));
  const until = async (n: number): Promise<void> => {
    while (items.length < n && !finished) await new Promise<void>((resolve) => (wake = resolve));
    assert.ok(items.length >= n, `expected ${n} transcripts, stream ended after ${items.length} (${String(error)})`);
  };
  return { items, error: () => error, until, done };
}

describe('soniox engines against the Soniox stand-in', () => {
  let soniox: FakeSoniox;
  let stt: SonioxStt;
  const settings = (extra: Record<string, unknown> = {}) =>
    sonioxSttSettings.parse({ apiKey: API_KEY, url: soniox.url, apiUrl: soniox.apiUrl, finalizeTimeoutMs: 2000, ...extra });

  before(async () => {
    soniox = await startFakeSoniox({ apiKey: API_KEY });
    stt = (await sonioxSttEngine.create(settings(), { id: 'soniox' })) as SonioxStt;
  });
  after(async () => {
    await stt.close();
    await soniox.close();
  });

  it('discovers languages, provider endpointing and translation from GET /v1/models', async () => {
    assert.deepEqual(stt.capabilities, {
      languages: FAKE_SONIOX_LANGUAGES, interimResults: true, vocabulary: true, sampleRateHz: 16000, endpointing: 'provider', translation: true,
    });
    const mt = await sonioxMtEngine.create({ apiKey: API_KEY, apiUrl: soniox.apiUrl, model: 'stt-rt-v5' }, { id: 'soniox' });
    assert.equal(mt.capabilities.fromRecognizer, 'soniox');
    assert.equal(mt.capabilities.pairs.length, FAKE_SONIOX_LANGUAGES.length * (FAKE_SONIOX_LANGUAGES.length - 1));
    assert.ok(mt.capabilities.pairs.some((p) => p.source === 'en' && p.target === 'es'));
    await assert.rejects(mt.translate(['hello'], { source: 'en', target: 'es' }), /stt.provider "soniox"/);
    await assert.rejects(sonioxSttEngine.create(settings({ model: 'stt-async-v4' }), { id: 'soniox' }), /no real-time model "stt-async-v4".*stt-rt-v5/);
    await assert.rejects(sonioxSttEngine.create(settings({ apiKey: 'wrong' }), { id: 'soniox' }), /HTTP 401/);
  });

  it('sends the documented configuration field by field, the key only in the Authorization header, and the audio bytes as pushed', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({
      language: 'en-US', vocabulary: ['Tolk', 'Soniox'], translateTo: 'es-ES', translationTerms: [{ source: 'referral', target: 'referencia' }],
    });
    const session = await soniox.session(next);
    assert.equal(session.headers.authorization, `Bearer ${API_KEY}`);
    assert.deepEqual(session.config, {
      model: 'stt-rt-v5', audio_format: 'pcm_s16le', sample_rate: 16000, num_channels: 1, language_hints: ['en'],
      enable_endpoint_detection: true,
      context: { terms: ['Tolk', 'Soniox'], translation_terms: [{ source: 'referral', target: 'referencia' }] },
      translation: { type: 'one_way', target_language: 'es' },
    });
    stream.push(Int16Array.from([1, -2, 32767, -32768]));
    stream.push(Int16Array.from([258]));
    await session.until((s) => s.audioBytes >= 10);
    assert.deepEqual([...Buffer.concat(session.audio)], [1, 0, 0xfe, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x02, 0x01]);
    await stream.close();
    assert.equal(session.audioEnded, true, 'close ends the audio with an empty frame');
  });

  it('maps non-final tokens to interim transcripts and resolves flush with the final that <fin> closes', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US' });
    const out = collect(stream);
    const session = await soniox.session(next);
    assert.equal(session.config?.translation, undefined, 'no translation unless asked for');
    session.send(tokens('hello wor'));
    await out.until(1);
    session.send([...tokens('hello', { is_final: true, confidence: 0.8 }), ...tokens('world', { startMs: 200, confidence: 0.5, continues: true })]);
    await out.until(2);
    const flushed = stream.flush();
    await session.untilControl('finalize');
    session.send([...tokens('world', { is_final: true, startMs: 200, confidence: 1, continues: true }), { text: '<fin>', is_final: true }]);
    const final = await flushed;
    assert.deepEqual(out.items.slice(0, 2), [
      { type: 'interim', text: 'hello wor', audioMs: 400 },
      { type: 'interim', text: 'hello world', audioMs: 400 },
    ]);
    assert.deepEqual(final, { type: 'final', text: 'hello world', audioMs: 400, confidence: 0.9 });
    await out.until(3);
    assert.deepEqual(out.items[2], final, 'the final is also yielded');
    await stream.close();
    await out.done;
    assert.equal(out.error(), undefined);
  });

  it('gives one final per <end> (provider endpointing): two utterances in one stream without a flush', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US' });
    const out = collect(stream);
    const session = await soniox.session(next);
    session.send([...tokens('good morning', { is_final: true }), { text: '<end>', is_final: true }, ...tokens('how', { startMs: 900, continues: true })]);
    session.send([...tokens('how are you', { is_final: true, startMs: 900, confidence: 0.6, continues: true }), { text: '<end>', is_final: true }]);
    await out.until(3);
    const finals = out.items.filter((t) => t.type === 'final');
    assert.deepEqual(finals, [
      { type: 'final', text: 'good morning', audioMs: 400, confidence: 0.9, endpoint: 'provider' },
      { type: 'final', text: 'how are you', audioMs: 600, confidence: 0.6, endpoint: 'provider' },
    ]);
    assert.deepEqual(out.items.map((t) => t.type), ['final', 'interim', 'final']);
    await stream.close();
  });

  it('folds an <end> that arrives while a flush is pending into that flush\'s one final', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US' });
    const out = collect(stream);
    const session = await soniox.session(next);
    const flushed = stream.flush();
    await session.untilControl('finalize');
    session.send([...tokens('see you', { is_final: true }), { text: '<end>', is_final: true }]);
    session.send([...tokens('soon', { is_final: true, startMs: 400, continues: true }), { text: '<fin>', is_final: true }]);
    assert.deepEqual(await flushed, { type: 'final', text: 'see you soon', audioMs: 600, confidence: 0.9 });
    await stream.close();
    await out.done;
    assert.deepEqual(out.items.filter((t) => t.type === 'final').map((t) => t.text), ['see you soon']);
  });

  it('carries the translation tokens of an utterance as its final\'s translation', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US', translateTo: 'es-ES' });
    const out = collect(stream);
    const session = await soniox.session(next);
    session.send([
      ...tokens('hello world', { is_final: true, translation_status: 'original', language: 'en' }),
      ...translationTokens('hola mundo', 'es', 'en'),
      { text: '<end>', is_final: true },
      ...translationTokens('ignored', 'es', 'en').map((t) => ({ ...t, is_final: false })),
    ]);
    await out.until(1);
    assert.deepEqual(out.items[0], { type: 'final', text: 'hello world', audioMs: 400, confidence: 0.9, endpoint: 'provider', translation: 'hola mundo' });
    await stream.close();
  });

  it('turns an error response (error_code, error_message) into a SonioxError for the pending flush and the iterator', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US' });
    const out = collect(stream);
    const session = await soniox.session(next);
    const flushed = stream.flush();
    await session.untilControl('finalize');
    session.error(503, 'Cannot continue request (code 3). Please restart the request.');
    await assert.rejects(flushed, (err: unknown) => {
      assert.ok(err instanceof SonioxError);
      assert.equal(err.code, 503);
      assert.equal(err.retryable, true);
      assert.match(err.message, /soniox error 503: Cannot continue request/);
      return true;
    });
    await out.done;
    assert.match(String(out.error()), /soniox error 503/);
    await assert.rejects(stream.flush(), /soniox error 503/, 'a failed stream refuses further flushes');
    await stream.close();
  });

  it('fails the stream when Soniox closes the socket without finishing, and when <fin> never comes', async () => {
    const next = soniox.sessions.length + 1;
    const stream = await stt.open({ language: 'en-US' });
    const out = collect(stream);
    (await soniox.session(next)).socket.terminate();
    await out.done;
    assert.match(String(out.error()), /closed the connection unexpectedly \(code 1006\)/);

    const next1 = soniox.sessions.length + 1;
    const garbled = collect(await stt.open({ language: 'en-US' }));
    (await soniox.session(next1)).socket.send('not json');
    await garbled.done;
    assert.match(String(garbled.error()), /soniox sent a frame that is not JSON: not json/);

    const next2 = soniox.sessions.length + 1;
    const quiet = (await sonioxSttEngine.create(settings({ finalizeTimeoutMs: 100 }), { id: 'soniox' })).open({ language: 'en-US' });
    const silent = await quiet;
    const session = await soniox.session(next2);
    await assert.rejects(silent.flush(), (err: unknown) => err instanceof SonioxError && err.code === 408 && /no <fin> within 100 ms/.test(err.message));
    await session.until((s) => s.closed);
  });

  it('sends a keepalive when no audio went out for keepaliveIntervalMs', async () => {
    const engine = (await sonioxSttEngine.create(settings({ keepaliveIntervalMs: 1000 }), { id: 'soniox' })) as SonioxStt;
    const next = soniox.sessions.length + 1;
    const stream = await engine.open({ language: 'en-US' });
    const session = await soniox.session(next);
    await session.untilControl('keepalive');
    assert.deepEqual(session.controls[0], { type: 'keepalive' });
    await engine.close();
    assert.equal(session.audioEnded, true, 'closing the engine closes its streams');
    await stream.close();
  });

  it('refuses a wrong key at the handshake and times out a server that never answers it', async () => {
    const wrong = new (stt.constructor as typeof SonioxStt)(settings({ apiKey: 'wrong' }), { id: 'stt-rt-v5', transcription_mode: 'real_time', languages: [{ code: 'en' }] });
    await assert.rejects(wrong.open({ language: 'en-US' }), (err: unknown) =>
      err instanceof SonioxError && err.code === 401 && !err.retryable && /cannot connect to .*401/.test(err.message));
    await assert.rejects(stt.open({ language: 'xx-XX' }), /does not recognize xx-XX/);
    const hanging = await startFakeSoniox({ apiKey: API_KEY, hangHandshake: true });
    try {
      const engine = new (stt.constructor as typeof SonioxStt)(
        settings({ url: hanging.url, connectTimeoutMs: 150 }), { id: 'stt-rt-v5', transcription_mode: 'real_time', languages: [{ code: 'en' }] },
      );
      await assert.rejects(engine.open({ language: 'en-US' }), /no connection to .* within 150 ms/);
    } finally {
      await hanging.close();
    }
  });

  it('stand-in: rejects configurations Soniox documents as invalid', () => {
    const valid = { model: 'stt-rt-v5', audio_format: 'pcm_s16le', sample_rate: 16000, num_channels: 1 };
    assert.equal(sonioxConfigProblem(valid), undefined);
    assert.match(sonioxConfigProblem({ ...valid, sample_rate: undefined }) ?? '', /sample_rate/);
    assert.match(sonioxConfigProblem({ ...valid, model: 'nope' }) ?? '', /model/);
    assert.match(sonioxConfigProblem({ ...valid, max_endpoint_delay_ms: 100 }) ?? '', /500 and 3000/);
    assert.match(sonioxConfigProblem({ ...valid, translation: { type: 'one_way' } }) ?? '', /target_language/);
    assert.match(sonioxConfigProblem({ ...valid, enable_endpointing: true }) ?? '', /Unknown configuration fields: enable_endpointing/);
  });
});
