import type { FastifyRequest } from 'fastify';
import type { TolkConfig } from '../config.js';

/**
 * The origin of every URL Tolk hands out (`streamUrl`, `join_url` and its QR code, spec 004
 * `stream.url`, Twilio's callbacks): `TOLK_PUBLIC_URL` when set, else the protocol and host the
 * request reached — which are the proxy's `X-Forwarded-Proto` / `X-Forwarded-Host` only when
 * `TOLK_TRUST_PROXY` names the proxy (Fastify's `trustProxy`; docs/deploy.md "TLS").
 * @returns e.g. `https://tolk.example.com` (no trailing slash).
 */
export function publicOrigin(config: Pick<TolkConfig, 'calls'>, request: FastifyRequest): string {
  return config.calls.publicUrl ?? `${request.protocol}://${request.host}`;
}

/** `origin` with `http` → `ws` and `https` → `wss`, for WebSocket URLs. */
export function webSocketOrigin(origin: string): string {
  return origin.replace(/^http/, 'ws');
}

/**
 * True when `origin`'s host is a loopback address (`localhost`, `127.x.x.x`, `[::1]`): a link on it
 * works only on this machine, never from a phone.
 */
export function isLoopbackOrigin(origin: string): boolean {
  let host: string;
  try {
    host = new URL(origin).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

/** What an invite on a loopback origin says (`join_url_warning`), or null when the origin is reachable from elsewhere. */
export function loopbackInviteWarning(origin: string): string | null {
  if (!isLoopbackOrigin(origin)) return null;
  return `This link uses ${new URL(origin).host}, a loopback address: it opens only on this computer, not on a phone. ` +
    'Open Tolk by an address others can reach (its LAN IP or domain), or set TOLK_PUBLIC_URL; phones need https (docs/deploy.md "TLS").';
}
