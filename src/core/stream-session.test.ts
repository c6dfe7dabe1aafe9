import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { WorkerEvent, WorkerLinkHandlers } from '../realtime/worker-link.js';
import type { StreamRequest } from './stream-request.js';
import { StreamSession, type OpenResult, type StreamEnd, type StreamOpening, type StreamSessionDeps, type StreamSessionOptions, type StreamTransport } from './stream-session.js';

const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

/** 100 ms of s16le mono at 16 kHz. */
const FRAME = Buffer.alloc(3200);

function request(): StreamRequest {
  return {
    sourceLanguage: 'en-US', targetLanguage: 'es-ES', audio: { format: 'pcm_s16le', sampleRateHz: 16000, channels: 1 }, voice: 'female',
    vocabulary: [], glossary: [], transcript: { interim: false, final: true, translate: true }, credential: { kind: 'key', key: 'k' },
  };
}

/** A worker link in memory: records audio and drains, lets the test emit the worker's events. */
class FakeWorker extends EventEmitter {
  handlers: WorkerLinkHandlers | undefined;
  readonly audio: Buffer[] = [];
  /** The arrival time sent with each chunk (undefined: now). */
  readonly arrivals: Array<number | undefined> = [];
  usageMs = 0;
  readonly delivered: WorkerEvent[] = [];
  closed = false;
  drained = 0;
  /** Resolves the pending open. */
  release: ((r: OpenResult) => void) | undefined;

  open = (opening: StreamOpening): Promise<OpenResult> => {
    this.handlers = opening.handlers;
    this.emit('opening', opening);
    return new Promise((resolve) => (this.release = resolve));
  };

  /** Calls of replaceWorker; the next one resolves with `replaceWith` (else rejects). */
  replaced = 0;
  replaceWith: ((ok: boolean) => void) | undefined;

  accept(): void {
    this.release?.({
      ok: true,
      stream: {
        replaceWorker: () => {
          this.replaced++;
          return new Promise<void>((resolve, reject) => (this.replaceWith = (ok) => (ok ? resolve() : reject(new Error('no worker has room')))));
        },
        link: { backlogMs: 0, sendAudio: (pcm, arrivedAtMs) => void (this.audio.push(pcm), this.arrivals.push(arrivedAtMs)), drain: async () => void this.drained++ },
        audioReceived: (ms) => (this.usageMs += ms),
        delivered: (event) => this.delivered.push(event),
        close: async () => void (this.closed = true),
      },
    });
  }
}

/** A surface in memory: what the session sent it. */
class MemoryTransport implements StreamTransport {
  readonly events: WorkerEvent[] = [];
  readonly audioOut: Buffer[] = [];
  ends: StreamEnd[] = [];
  readonly ended = new EventEmitter();
  event(event: WorkerEvent): boolean | Promise<boolean> {
    this.events.push(event);
    return true;
  }
  audio(pcm: Buffer): void {
    this.audioOut.push(pcm);
  }
  end(end: StreamEnd): void {
    this.ends.push(end);
    this.ended.emit('end', end);
  }
}

function setup(idleAudioTimeoutMs = 60_000, options: StreamSessionOptions = {}) {
  const worker = new FakeWorker();
  const transport = new MemoryTransport();
  const live = new Set<StreamSession>();
  const started: string[] = [];
  const deps: StreamSessionDeps = { open: worker.open, idleAudioTimeoutMs, live, streamStarted: (s) => started.push(s) };
  const session = new StreamSession(deps, 'calls', request(), transport, log, options);
  return { worker, transport, live, started, session };
}

const final: WorkerEvent = { type: 'transcript', utteranceId: 'u1', text: 'hello', final: true, startedAt: new Date(), durationMs: 500 } as unknown as WorkerEvent;
const translation: WorkerEvent = { type: 'translation', utteranceId: 'u1', text: 'hola', transcript: 'hello', final: true } as unknown as WorkerEvent;

test('a session keeps early audio, then forwards audio, events and speech, and counts as live until closed', async () => {
  const { worker, transport, live, started, session } = setup();
  const starting = session.start();
  assert.equal(session.state, 'opening');
  assert.ok(live.has(session), 'live from the start');
  session.pushAudio(FRAME);
  session.pushAudio(FRAME);
  assert.equal(worker.audio.length, 0, 'early audio waits for the worker');
  worker.accept();
  assert.equal(await starting, true);
  assert.equal(session.state, 'streaming');
  assert.deepEqual(started, ['calls']);
  assert.equal(worker.audio.length, 2, 'early audio flushed in order');
  session.pushAudio(FRAME);
  assert.equal(worker.audio.length, 3);
  assert.equal(worker.usageMs, 300);
  worker.handlers?.onEvent(final);
  worker.handlers?.onEvent(translation);
  worker.handlers?.onAudio(Buffer.from([1, 2]));
  assert.deepEqual(transport.events.map((e) => e.type), ['transcript', 'translation']);
  assert.deepEqual(worker.delivered, [final, translation], 'what reached the client is recorded');
  assert.equal(transport.audioOut.length, 1);
  await session.shutdown();
  assert.equal(session.state, 'closed');
  assert.ok(worker.closed);
  assert.ok(!live.has(session));
  session.pushAudio(FRAME);
  assert.equal(worker.audio.length, 3, 'no audio after the close');
});

test('early audio is bounded: past 30 s the session ends with 429', async () => {
  const { worker, transport, live, session } = setup();
  const starting = session.start();
  for (let i = 0; i < 301; i++) session.pushAudio(FRAME);
  assert.equal(transport.ends.length, 1);
  assert.equal((transport.ends[0] as { status: number }).status, 429);
  worker.accept();
  assert.equal(await starting, false);
  assert.ok(worker.closed, 'the stream opened meanwhile is given back');
  assert.ok(!live.has(session));
});

test('a refusal ends the session with its status and leaves nothing live', async () => {
  const { worker, transport, live, started, session } = setup();
  const starting = session.start();
  worker.release?.({ ok: false, status: 402, description: 'no credit' });
  assert.equal(await starting, false);
  assert.deepEqual(transport.ends, [{ status: 402, description: 'no credit' }]);
  await session.shutdown();
  assert.ok(!live.has(session));
  assert.deepEqual(started, []);
});

test('a store failure while opening ends the session with 500', async () => {
  const { transport, session } = setup();
  (session as unknown as { deps: StreamSessionDeps }).deps.open = async () => {
    throw new Error('db down');
  };
  assert.equal(await session.start(), false);
  assert.equal((transport.ends[0] as { status: number }).status, 500);
});

test('a worker that dies: its error event, then its close passed on', async () => {
  const { worker, transport, live, session } = setup();
  const starting = session.start();
  worker.accept();
  await starting;
  worker.handlers?.onEvent({ type: 'error', status: 500, description: 'worker stopped', cause: undefined } as WorkerEvent);
  worker.handlers?.onClose(4500, 'worker stopped');
  assert.equal(transport.events[0]?.type, 'error');
  assert.deepEqual(transport.ends, [{ code: 4500, reason: 'worker stopped' }]);
  await session.shutdown();
  assert.ok(!live.has(session));
});

test('revocation (the registered connection is disconnected) ends the stream with its status', async () => {
  const { worker, transport, session } = setup();
  let connection: StreamOpening['connection'] | undefined;
  worker.on('opening', (o: StreamOpening) => (connection = o.connection));
  const starting = session.start();
  worker.accept();
  await starting;
  connection?.disconnect(401, 'API key rotated');
  connection?.disconnect(401, 'again');
  assert.deepEqual(transport.ends, [{ status: 401, description: 'API key rotated' }], 'once');
  await session.shutdown();
  assert.ok(worker.closed);
  session.pushAudio(FRAME);
  assert.equal(worker.audio.length, 0);
});

test('no audio for the idle timeout ends the stream with 408; audio restarts the period', async () => {
  const { worker, transport, live, session } = setup(60);
  const starting = session.start();
  worker.accept();
  await starting;
  const t0 = Date.now();
  const timer = setInterval(() => session.pushAudio(FRAME), 20);
  setTimeout(() => clearInterval(timer), 150).unref();
  const [end] = (await once(transport.ended, 'end')) as [StreamEnd];
  assert.equal((end as { status: number }).status, 408);
  assert.ok(Date.now() - t0 >= 150, 'audio kept it alive');
  clearInterval(timer);
  await session.shutdown();
  assert.ok(!live.has(session));
  assert.ok(worker.closed);
});

test('drain lets the worker finish, then closes 1001', async () => {
  const { worker, transport, session } = setup();
  const starting = session.start();
  worker.accept();
  await starting;
  await session.drain(100);
  assert.equal(worker.drained, 1);
  assert.deepEqual(transport.ends, [{ code: 1001, reason: 'Server shutting down' }]);
  assert.equal(session.state, 'closed');
});

test('a client that left while opening: the opener answers gone and nothing is told', async () => {
  const { worker, transport, live, session } = setup();
  let isOpen: (() => boolean) | undefined;
  worker.on('opening', (o: StreamOpening) => (isOpen = o.isOpen));
  const starting = session.start();
  void session.shutdown();
  assert.equal(isOpen?.(), false);
  worker.release?.({ ok: false, gone: true });
  assert.equal(await starting, false);
  assert.deepEqual(transport.ends, []);
  assert.ok(!live.has(session));
});

test('replaceLostWorker: a dead worker is replaced, audio meanwhile kept and sent after; no room ends it with 503', async () => {
  const { worker, transport, live, session } = setup(60_000, { replaceLostWorker: true });
  const starting = session.start();
  worker.accept();
  await starting;
  worker.handlers?.onEvent({ type: 'error', status: 500, description: 'worker stopped', cause: undefined } as WorkerEvent);
  worker.handlers?.onClose(4500, 'worker stopped');
  assert.equal(worker.replaced, 1);
  session.pushAudio(FRAME);
  assert.equal(worker.audio.length, 0, 'kept while the worker is replaced');
  worker.replaceWith?.(true);
  await new Promise((r) => setImmediate(r));
  assert.equal(worker.audio.length, 1, 'sent to the new worker');
  assert.deepEqual(transport.ends, [], 'the client is not ended');
  assert.equal(session.state, 'streaming');

  worker.handlers?.onClose(1001, 'worker shutting down');
  assert.equal(worker.replaced, 2, 'a worker shutting down is replaced too');
  worker.replaceWith?.(false);
  const [end] = (await once(transport.ended, 'end')) as [StreamEnd];
  assert.equal((end as { status: number }).status, 503);
  await session.shutdown();
  assert.ok(!live.has(session));
});

test('audio pushed with keepsAlive false is forwarded but does not restart the idle period', async () => {
  const { worker, transport, session } = setup(60);
  const starting = session.start();
  worker.accept();
  await starting;
  const t0 = Date.now();
  const timer = setInterval(() => session.pushAudio(FRAME, { keepsAlive: false }), 10);
  const [end] = (await once(transport.ended, 'end')) as [StreamEnd];
  clearInterval(timer);
  assert.equal((end as { status: number }).status, 408);
  assert.ok(Date.now() - t0 < 1000, 'silence did not keep it alive');
  assert.ok(worker.audio.length >= 1, 'the silence reached the worker');
  await session.shutdown();
});

test('an event the surface delivers later (a promise) is recorded once it resolves true', async () => {
  const { worker, transport, session } = setup();
  const answers = [Promise.resolve(true), Promise.resolve(false)];
  transport.event = (event) => {
    transport.events.push(event);
    return answers.shift() ?? false;
  };
  const starting = session.start();
  worker.accept();
  await starting;
  worker.handlers?.onEvent(final);
  worker.handlers?.onEvent(translation);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(worker.delivered, [final], 'only what was sent');
});

test('early audio keeps the arrival time its surface gives', async () => {
  const { worker, session } = setup();
  const starting = session.start();
  session.pushAudio(FRAME, { arrivedAtMs: 1234 });
  session.pushAudio(FRAME);
  worker.accept();
  await starting;
  assert.equal(worker.arrivals[0], 1234);
  assert.ok((worker.arrivals[1] ?? 0) > 1234, 'now by default');
});
