/**
 * The words shown for each failure: what happened and what the visitor can do about it.
 */
import type { MicError } from '../audio/microphone';
import type { BannerMessage } from './status-banner';

/** Explains a microphone failure, with the steps to fix it. */
export function micErrorMessage(error: MicError): BannerMessage {
  switch (error.kind) {
    case 'denied':
      return {
        tone: 'error',
        title: 'Microphone access is blocked',
        detail:
          'Allow it for this site: click the icon left of the address bar, set Microphone to "Allow", then press the microphone button again. ' +
          'On iPhone or iPad: Settings → Safari → Microphone → Allow.',
      };
    case 'insecure':
      return {
        tone: 'error',
        title: 'The microphone needs a secure connection',
        detail: 'Browsers allow recording only on https:// pages or on localhost. Open Tolk through HTTPS (for example behind a reverse proxy with a certificate).',
      };
    case 'not-found':
      return { tone: 'error', title: 'No microphone found', detail: 'Connect a microphone or headset, then press the microphone button again.' };
    case 'busy':
      return { tone: 'error', title: 'The microphone is busy', detail: 'Another application is using it. Close that application and try again.' };
    case 'unsupported':
      return { tone: 'error', title: 'This browser cannot record audio', detail: 'Use a recent version of Chrome, Edge, Firefox or Safari.' };
    case 'ended':
      return { tone: 'warning', title: 'The microphone was disconnected', detail: 'Reconnect it and press the microphone button to continue.' };
    default:
      return { tone: 'error', title: 'The microphone could not start', detail: error.message };
  }
}

/** The banner for a server's `{"error": …}` message. */
export function serverErrorMessage(message: string): BannerMessage {
  return { tone: 'error', title: 'The server reported a problem', detail: message };
}
