/**
 * The longest WebSocket close reason, in UTF-8 bytes: a close frame's payload is at most 125 bytes
 * (RFC 6455 §5.5), 2 of them the code. `ws` throws on a longer reason.
 */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `reason` shortened to at most {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes without splitting a
 * character (a description that echoes client input, such as a 100×"é" voice, is 200 bytes).
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}
