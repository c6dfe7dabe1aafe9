/**
 * One AudioContext for the whole app, created on the first user gesture (browsers keep a context
 * created without one suspended) and shared by the microphone and the speech player.
 */
let shared: AudioContext | undefined;

/**
 * Returns the shared AudioContext, creating it at the device's own sample rate and resuming it.
 * Call from a click handler the first time, so that the browser allows sound.
 */
export async function audioContext(): Promise<AudioContext> {
  if (!shared || shared.state === 'closed') shared = new AudioContext({ latencyHint: 'interactive' });
  if (shared.state === 'suspended') {
    try {
      await shared.resume();
    } catch {
      // A context that cannot resume yet (no gesture) resumes on the next call from a click.
    }
  }
  return shared;
}
