/**
 * The call session of spec 004 (`POST /v1/sessions`, object `session`) as the domain sees it:
 * one conversation between a customer and an agent (or an AI agent), reached over the calls stream
 * socket and/or a telephony provider. The HTTP shape (snake_case) is rendered by `src/api/calls/`.
 */

/** Session modes of spec 004 "mode". */
export const CALL_MODES = ['bidirectional_translation', 'assistive_translation', 'ai_agent', 'help_chat_voice'] as const;
/** A session mode (spec 004 "mode"). */
export type CallMode = (typeof CALL_MODES)[number];

/** Session status of spec 004: `created` → `connecting` → `active` → `ended`. */
export type CallSessionStatus = 'created' | 'connecting' | 'active' | 'ended';

/**
 * Status of the telephony leg (spec 004 `provider.status`): `pending` until a call is placed or
 * attached, then `ringing` → `connected` → `completed`, or `failed` (busy, no answer, error).
 */
export type ProviderStatus = 'pending' | 'ringing' | 'connected' | 'completed' | 'failed';

/** The two participants of a call session. The customer is the phone caller; the agent the operator. */
export type CallLeg = 'customer' | 'agent';

/** Recording channel layout (spec 004 `recording.channels`): `dual` puts customer and agent on separate channels. */
export type RecordingChannels = 'dual' | 'mono';

/** The telephony side of a session (spec 004 `provider`). */
export interface CallProvider {
  /** Provider type; `twilio` is the one Tolk drives. */
  type: 'twilio';
  /** E.164 number the provider dials (outbound) or that was called; null when not given. */
  phoneNumber: string | null;
  /** An existing provider call to attach (Twilio `CallSid`, inbound flows); null for outbound. */
  callSid: string | null;
  status: ProviderStatus;
}

/** A call session as stored. Languages are BCP-47 tags as the client sent them. */
export interface CallSession {
  /** `sess_…`. */
  id: string;
  organizationId: string;
  mode: CallMode;
  status: CallSessionStatus;
  /** The customer's language (spec 004 "source_language"). */
  sourceLanguage: string;
  /** The agent's language (spec 004 "target_language"). */
  targetLanguage: string;
  provider: CallProvider | null;
  recording: { enabled: boolean; channels: RecordingChannels };
  metadata: Record<string, string> | null;
  /** Where this session's webhook events go (overrides the organization's). */
  webhookUrl: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}
