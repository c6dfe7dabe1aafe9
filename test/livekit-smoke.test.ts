import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AudioFrame, AudioSource, AudioStream, dispose, LocalAudioTrack, Room, RoomEvent, TrackKind,
  TrackPublishOptions, TrackSource, type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { librivoxSamples } from './helpers.js';
import { liveKitSkipReason, startLiveKitServer, type TestLiveKitServer } from './livekit-server.js';

const SAMPLE_RATE_HZ = 16_000;
const FRAME_SAMPLES = SAMPLE_RATE_HZ / 100; // 10 ms
/** RMS (s16) above which a received 10 ms frame counts as speech; LibriVox speech is ~1,000–4,000, silence and Opus noise < 100. */
const SPEECH_RMS = 300;

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

async function joinToken(server: TestLiveKitServer, roomName: string, identity: string): Promise<string> {
  const token = new AccessToken(server.apiKey, server.apiSecret, { identity, ttl: '10m' });
  token.addGrant({ roomJoin: true, room: roomName, canPublish: true, canSubscribe: true, canPublishData: true });
  return token.toJwt();
}

describe('a real livekit-server: two participants exchange audio and data', { skip: liveKitSkipReason() }, () => {
  let server: TestLiveKitServer;
  const rooms: Room[] = [];

  before(async () => { server = await startLiveKitServer(); });
  after(async () => {
    for (const room of rooms) await room.disconnect();
    await dispose();
    await server?.close();
  });

  it('carries a LibriVox recording and a reliable data packet from one participant to the other', { timeout: 60_000 }, async () => {
    const roomName = `smoke-${Date.now().toString(36)}`;
    const api = new RoomServiceClient(server.httpUrl, server.apiKey, server.apiSecret);
    const created = await api.createRoom({ name: roomName, emptyTimeout: 60 });
    assert.equal(created.name, roomName);

    const speaker = new Room();
    const listener = new Room();
    rooms.push(speaker, listener);

    const subscribed = new Promise<RemoteTrack>((resolve) => {
      listener.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
        if (track.kind === TrackKind.KIND_AUDIO && participant.identity === 'speaker') resolve(track);
      });
    });
    const data = new Promise<{ text: string; from?: string; topic?: string }>((resolve) => {
      listener.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
        resolve({ text: new TextDecoder().decode(payload), from: participant?.identity, topic });
      });
    });

    await listener.connect(server.url, await joinToken(server, roomName, 'listener'), { autoSubscribe: true, dynacast: false });
    await speaker.connect(server.url, await joinToken(server, roomName, 'speaker'), { autoSubscribe: true, dynacast: false });
    const participants = await api.listParticipants(roomName);
    assert.deepEqual(participants.map((p) => p.identity).sort(), ['listener', 'speaker']);

    const source = new AudioSource(SAMPLE_RATE_HZ, 1);
    const track = LocalAudioTrack.createAudioTrack('microphone', source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await speaker.localParticipant!.publishTrack(track, options);

    const remoteTrack = await subscribed;
    const received = countSpeechFrames(remoteTrack, 100);

    // 3 s of speech, paced by the source's queue (captureFrame waits while it is full).
    const speech = librivoxSamples('0880').subarray(0, SAMPLE_RATE_HZ * 3);
    for (let i = 0; i + FRAME_SAMPLES <= speech.length; i += FRAME_SAMPLES) {
      await source.captureFrame(new AudioFrame(speech.slice(i, i + FRAME_SAMPLES), SAMPLE_RATE_HZ, 1, FRAME_SAMPLES));
    }
    const { speechFrames, frames, sampleRateHz } = await received;
    assert.equal(sampleRateHz, SAMPLE_RATE_HZ);
    assert.ok(speechFrames >= 100, `expected 100 frames with speech energy, got ${speechFrames} of ${frames}`);

    await speaker.localParticipant!.publishData(new TextEncoder().encode('{"type":"hello"}'), { reliable: true, topic: 'smoke' });
    assert.deepEqual(await data, { text: '{"type":"hello"}', from: 'speaker', topic: 'smoke' });
    await source.close();
  });
});

/** Reads the track until `wanted` frames carried speech energy, or at most `maxFrames` frames (10 ms each) came. */
async function countSpeechFrames(track: RemoteTrack, wanted: number, maxFrames = 800): Promise<{ speechFrames: number; frames: number; sampleRateHz: number }> {
  const stream = new AudioStream(track, { sampleRate: SAMPLE_RATE_HZ, numChannels: 1 });
  const reader = stream.getReader();
  let speechFrames = 0;
  let frames = 0;
  let sampleRateHz = 0;
  try {
    while (speechFrames < wanted && frames < maxFrames) {
      const { value, done } = await reader.read();
      if (done) break;
      frames++;
      sampleRateHz = value.sampleRate;
      if (rms(value.data) > SPEECH_RMS) speechFrames++;
    }
  } finally {
    await reader.cancel();
  }
  return { speechFrames, frames, sampleRateHz };
}
