import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { TwilioHttpClient, TwilioHttpRequest, TwilioHttpResponse } from '../src/integrations/twilio.js';
import type { TwilioSettings } from '../src/integrations/twilio-settings.js';
import { TwilioMediaPeer } from './twilio-media-peer.js';

/**
 * A stand-in for Twilio Programmable Voice, written from Twilio's documentation (Call resource,
 * status callbacks, webhook security, `<Connect><Stream>`, Media Streams). Tolk's `twilio` client
 * reaches it through its `httpClient` seam: each request is form-encoded as the client's own HTTP
 * client would put it on the wire, parsed back, and asserted field by field (To, From,
 * Twiml/Url, StatusCallback, StatusCallbackMethod, StatusCallbackEvent, Basic auth); the answers
 * are Twilio's (a JSON call resource, or `{code, message, more_info, status}`). A placed call then
 * runs: signed status callbacks (initiated, ringing, answered → in-progress, completed, or busy /
 * no-answer / failed), the TwiML parsed, and the Media Stream opened ({@link TwilioMediaPeer}).
 */

/** The `<Connect><Stream>` of a TwiML document. */
export interface ParsedStreamTwiml {
  url: string;
  parameters: Record<string, string>;
}

/** How the callee answers a simulated outbound call (`ring`: it rings until the call is hung up). */
export type CalleeBehaviour = 'answer' | 'busy' | 'no-answer' | 'failed' | 'ring';

/** One call the simulator knows. */
export interface SimulatedCall {
  sid: string;
  to: string;
  from: string;
  direction: 'outbound-api' | 'inbound';
  status: string;
  statusCallback?: string;
  twiml?: ParsedStreamTwiml;
  media?: TwilioMediaPeer;
  /** Status callbacks posted, with Tolk's HTTP answer. */
  callbacks: Array<{ CallStatus: string; httpStatus: number }>;
}

/** The REST requests the simulator received, form fields as Twilio's API would read them. */
export interface RecordedRequest {
  method: string;
  path: string;
  fields: URLSearchParams;
}

const API_BASE = 'https://api.twilio.com';

/** Twilio's signature of a request (webhook security docs): HMAC-SHA1 of URL + sorted key+value, base64. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params).sort().reduce((acc, key) => acc + key + params[key], url);
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function sid(prefix: string): string {
  return prefix + crypto.randomBytes(16).toString('hex');
}

function decodeXml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Parses TwiML that must be `<Response><Connect><Stream url="…">[<Parameter name value/>]</Stream></Connect></Response>`.
 * @throws {AssertionError} when it is not.
 */
export function parseConnectStreamTwiml(xml: string): ParsedStreamTwiml {
  const body = xml.replace(/^<\?xml[^>]*\?>/, '').trim();
  const m = /^<Response><Connect><Stream url="([^"]+)"(?:\/>|>(.*?)<\/Stream>)<\/Connect><\/Response>$/s.exec(body);
  assert.ok(m?.[1], `TwiML is not <Response><Connect><Stream url=…>: ${xml}`);
  const parameters: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) parameters[decodeXml(p[1] ?? '')] = decodeXml(p[2] ?? '');
  return { url: decodeXml(m[1]), parameters };
}

/** A Twilio error body (`{code, message, more_info, status}`). */
function twilioError(status: number, code: number, message: string): TwilioHttpResponse {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }) };
}

export class TwilioSimulator {
  readonly settings: TwilioSettings;
  readonly calls = new Map<string, SimulatedCall>();
  readonly requests: RecordedRequest[] = [];
  /** How the next outbound callee behaves. */
  callee: CalleeBehaviour = 'answer';
  /** Called when a placed call's Media Stream is open and started (the test then speaks). */
  onMediaStream?: (call: SimulatedCall) => void;
  /** Called after each status callback Tolk answered (the test waits on a call's progress). */
  onStatusCallback?: (call: SimulatedCall, callStatus: string, httpStatus: number) => void;
  /**
   * Twilio's answer to the next `calls.create` instead of placing it: an error status with
   * Twilio's error `code` and `message` (e.g. 400 / 21219, an unverified number on a trial account).
   */
  refuseNextCall?: { status: number; code: number; message: string } | undefined;
  private tolkBaseUrl = '';
  private sequence = 0;

  constructor(publicUrl = 'https://tolk.example.test') {
    this.settings = { accountSid: sid('AC'), authToken: crypto.randomBytes(16).toString('hex'), phoneNumber: '+14155550100', publicUrl };
  }

  /** Where Tolk really listens (the simulator maps the public URL onto it, as a proxy in front of Tolk would). */
  attach(tolkBaseUrl: string): void {
    this.tolkBaseUrl = tolkBaseUrl.replace(/\/+$/, '');
  }

  /** The `twilio` client's `httpClient` seam. */
  get httpClient(): TwilioHttpClient {
    return { request: (opts) => this.handle(opts) };
  }

  /** Maps a public URL (https or wss) to Tolk's local address. */
  localUrl(publicUrl: string): string {
    const pub = this.settings.publicUrl;
    const asHttp = publicUrl.replace(/^ws/, 'http');
    assert.ok(asHttp.startsWith(pub), `${publicUrl} is not under TOLK_PUBLIC_URL ${pub}`);
    const local = this.tolkBaseUrl + asHttp.slice(pub.length);
    return publicUrl.startsWith('ws') ? local.replace(/^http/, 'ws') : local;
  }

  private async handle(opts: TwilioHttpRequest): Promise<TwilioHttpResponse> {
    const url = new URL(opts.uri);
    // As the client's own RequestClient puts it on the wire: form-encoded, arrays as repeated keys.
    const fields = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.data ?? {})) for (const item of Array.isArray(v) ? v : [v]) fields.append(k, String(item));
    this.requests.push({ method: opts.method.toUpperCase(), path: url.pathname, fields });
    assert.equal(url.origin, API_BASE);
    assert.equal(opts.headers?.['Content-Type'], 'application/x-www-form-urlencoded');
    assert.equal(opts.headers?.Accept, 'application/json');
    if (opts.username !== this.settings.accountSid || opts.password !== this.settings.authToken) return twilioError(401, 20003, 'Authenticate');
    const base = `/2010-04-01/Accounts/${this.settings.accountSid}/Calls`;
    if (opts.method === 'post' && url.pathname === `${base}.json`) return this.createCall(fields);
    const m = new RegExp(`^${base}/(CA[0-9a-f]{32})\\.json$`).exec(url.pathname);
    if (opts.method === 'post' && m?.[1]) return this.updateCall(m[1], fields);
    return twilioError(404, 20404, `The requested resource ${url.pathname} was not found`);
  }

  private createCall(fields: URLSearchParams): TwilioHttpResponse {
    const refusal = this.refuseNextCall;
    if (refusal) {
      this.refuseNextCall = undefined;
      return twilioError(refusal.status, refusal.code, refusal.message);
    }
    const to = fields.get('To') ?? '';
    if (!/^\+[1-9]\d{1,14}$/.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    assert.equal(fields.get('From'), this.settings.phoneNumber, 'From is Tolk\'s number');
    assert.ok(fields.has('Twiml') !== fields.has('Url'), 'exactly one of Twiml and Url');
    const twiml = parseConnectStreamTwiml(fields.get('Twiml') ?? '');
    assert.match(twiml.url, /^wss:\/\//, 'the Stream url is wss');
    assert.ok(fields.get('StatusCallback')?.startsWith(`${this.settings.publicUrl}/`), 'StatusCallback under TOLK_PUBLIC_URL');
    assert.equal(fields.get('StatusCallbackMethod'), 'POST');
    assert.deepEqual(fields.getAll('StatusCallbackEvent'), ['initiated', 'ringing', 'answered', 'completed']);
    const call: SimulatedCall = {
      sid: sid('CA'), to, from: this.settings.phoneNumber, direction: 'outbound-api', status: 'queued',
      statusCallback: fields.get('StatusCallback') ?? undefined, twiml, callbacks: [],
    };
    this.calls.set(call.sid, call);
    const callee = this.callee;
    setImmediate(() => void this.runOutbound(call, callee).catch((err: unknown) => console.error('twilio simulator:', err)));
    return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify(this.resource(call)) };
  }

  private async updateCall(callSid: string, fields: URLSearchParams): Promise<TwilioHttpResponse> {
    const call = this.calls.get(callSid);
    if (!call) return twilioError(404, 20404, `The requested resource /Calls/${callSid}.json was not found`);
    assert.equal(fields.get('Status'), 'completed', 'a hang-up sets Status=completed');
    if (['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(call.status)) {
      return twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
    }
    setImmediate(() => void this.endCall(call));
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...this.resource(call), status: 'in-progress' }) };
  }

  /** The JSON call resource of Twilio's API (2010-04-01). */
  private resource(call: SimulatedCall): Record<string, unknown> {
    const path = `/2010-04-01/Accounts/${this.settings.accountSid}/Calls/${call.sid}`;
    return {
      sid: call.sid, account_sid: this.settings.accountSid, to: call.to, to_formatted: call.to, from: call.from, from_formatted: call.from,
      status: call.status, direction: call.direction, api_version: '2010-04-01', date_created: new Date().toUTCString(),
      date_updated: new Date().toUTCString(), start_time: null, end_time: null, duration: null, price: null, price_unit: 'USD',
      parent_call_sid: null, phone_number_sid: sid('PN'), answered_by: null, caller_name: null, forwarded_from: null,
      group_sid: null, queue_time: '0', trunk_sid: null, annotation: null, uri: `${path}.json`,
      subresource_uris: { recordings: `${path}/Recordings.json`, streams: `${path}/Streams.json`, notifications: `${path}/Notifications.json` },
    };
  }

  /** Runs a placed call as its callee behaves (as {@link callee} was when the call was placed). */
  private async runOutbound(call: SimulatedCall, callee: CalleeBehaviour): Promise<void> {
    await this.postStatus(call, 'initiated');
    await this.postStatus(call, 'ringing');
    if (callee === 'ring') return;
    if (callee !== 'answer') {
      await this.postStatus(call, callee);
      return;
    }
    await this.postStatus(call, 'in-progress');
    await this.openMedia(call);
  }

  /** Opens the call's Media Stream as the TwiML says, signed; then `connected` and `start`. */
  async openMedia(call: SimulatedCall, options: { signature?: string | null } = {}): Promise<TwilioMediaPeer> {
    assert.ok(call.twiml);
    const signature = options.signature === null ? undefined : (options.signature ?? twilioSignature(this.settings.authToken, call.twiml.url, {}));
    const media = await TwilioMediaPeer.connect({ localUrl: this.localUrl(call.twiml.url), signature, accountSid: this.settings.accountSid, callSid: call.sid });
    call.media = media;
    media.start(call.twiml.parameters);
    this.onMediaStream?.(call);
    return media;
  }

  /** The call ends (the callee hung up, or Tolk asked): `stop` on the stream, then `completed`. */
  async endCall(call: SimulatedCall): Promise<void> {
    if (call.status === 'completed') return;
    call.media?.stop();
    await this.postStatus(call, 'completed');
  }

  /**
   * Posts a status callback, signed: the parameters Twilio documents for call progress events.
   * @returns Tolk's HTTP status.
   */
  async postStatus(call: SimulatedCall, callStatus: string, options: { signature?: string | null } = {}): Promise<number> {
    call.status = callStatus;
    assert.ok(call.statusCallback);
    const params: Record<string, string> = {
      AccountSid: this.settings.accountSid, ApiVersion: '2010-04-01', CallSid: call.sid, CallStatus: callStatus,
      CallbackSource: 'call-progress-events', Called: call.to, Caller: call.from, Direction: call.direction,
      From: call.from, To: call.to, SequenceNumber: String(this.sequence++), Timestamp: new Date().toUTCString(),
      ...(callStatus === 'completed' ? { CallDuration: '1', Duration: '1' } : {}),
    };
    const status = await this.postForm(call.statusCallback, params, options.signature);
    call.callbacks.push({ CallStatus: callStatus, httpStatus: status });
    this.onStatusCallback?.(call, callStatus, status);
    return status;
  }

  /**
   * An inbound call to Tolk's number whose voice webhook is `voiceUrl` (public): posts the signed
   * webhook, parses the TwiML answer; when it connects a stream, opens it.
   */
  async inboundCall(voiceUrl: string, from = '+14155550199'): Promise<{ call: SimulatedCall; httpStatus: number; twiml: string }> {
    const call: SimulatedCall = { sid: sid('CA'), to: this.settings.phoneNumber, from, direction: 'inbound', status: 'ringing', callbacks: [] };
    this.calls.set(call.sid, call);
    const params = {
      AccountSid: this.settings.accountSid, ApiVersion: '2010-04-01', CallSid: call.sid, CallStatus: 'ringing', Called: call.to,
      Caller: from, Direction: 'inbound', From: from, To: call.to,
    };
    const res = await fetch(this.localUrl(voiceUrl), {
      method: 'POST', body: new URLSearchParams(params),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilioSignature(this.settings.authToken, voiceUrl, params) },
    });
    const twiml = await res.text();
    if (res.status === 200 && twiml.includes('<Connect>')) {
      call.twiml = parseConnectStreamTwiml(twiml);
      call.status = 'in-progress';
      await this.openMedia(call);
    }
    return { call, httpStatus: res.status, twiml };
  }

  /** Posts a form to a public URL, signed unless `signature` is null (or replaced when a string). */
  async postForm(publicUrl: string, params: Record<string, string>, signature?: string | null): Promise<number> {
    const sig = signature === null ? undefined : (signature ?? twilioSignature(this.settings.authToken, publicUrl, params));
    const res = await fetch(this.localUrl(publicUrl), {
      method: 'POST', body: new URLSearchParams(params),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(sig ? { 'X-Twilio-Signature': sig } : {}) },
    });
    await res.arrayBuffer();
    return res.status;
  }
}
