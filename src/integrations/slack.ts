/** How long a Slack notification may take before it is abandoned, in ms. */
const SLACK_TIMEOUT_MS = 5000;

/**
 * Posts a message to a Slack incoming webhook: `POST <url>` with `{"text": …}`.
 * @param fetchImpl - the fetch to use (tests may pass their own); global fetch by default.
 * @throws {Error} on a network failure, a timeout ({@link SLACK_TIMEOUT_MS}) or a non-2xx answer
 *   (callers log it; a notification never fails the request that caused it).
 */
export async function postSlackMessage(webhookUrl: string, text: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const res = await fetchImpl(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
    signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`Slack webhook answered ${res.status}`);
}

/** The Slack text announcing an escalation (spec 000 "Triggers Slack notification if configured"). */
export function escalationMessage(o: { sessionId: string; queuePosition: number; reason?: string | undefined }): string {
  const reason = o.reason?.trim() ? o.reason.trim() : 'none given';
  return `Session ${o.sessionId} needs a human interpreter: queue position ${o.queuePosition}. Reason: ${reason}`;
}
