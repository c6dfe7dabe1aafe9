import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Vapi's API, written from its reference (docs.vapi.ai/api-reference/calls/create):
 * `POST /call` with `Authorization: Bearer <private key>` and a JSON `CreateCallDTO`. It validates as
 * Vapi's NestJS API does — unknown top-level properties, a missing assistant or phone number, and a
 * customer number that is not E.164 are 400 `{"message":[…],"error":"Bad Request","statusCode":400}`;
 * a wrong key is 401 — and answers 201 with a `Call` (`id`, `type: "outboundPhoneCall"`,
 * `status: "queued"`…). Every request is recorded for the tests' field-by-field assertions.
 */

/** `CreateCallDTO`'s top-level properties (Vapi API reference). */
const CREATE_CALL_PROPERTIES = new Set([
  'customers', 'name', 'schedulePlan', 'transport', 'assistantId', 'assistant', 'assistantOverrides', 'squadId', 'squad',
  'workflowId', 'workflow', 'workflowOverrides', 'phoneNumberId', 'phoneNumber', 'customerId', 'customer',
]);
const E164 = /^\+[1-9]\d{1,14}$/;

/** One request to the fake. */
export interface RecordedVapiRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  status: number;
  /** What the fake answered. */
  response: unknown;
}

/** A running fake Vapi API. */
export interface FakeVapi {
  /** Base URL, for `VAPI_API_BASE`. */
  url: string;
  requests: RecordedVapiRequest[];
  /** Calls to this number are refused as Vapi refuses an undialable one (400 with the carrier's message). */
  refuseNumber(number: string): void;
  /** The next `count` requests answer 503 (Vapi unavailable). */
  failNext(count: number): void;
  close(): Promise<void>;
}

function validationErrors(body: Record<string, unknown>): string[] {
  const errors = Object.keys(body).filter((k) => !CREATE_CALL_PROPERTIES.has(k)).map((k) => `property ${k} should not exist`);
  if (!body.assistantId && !body.assistant && !body.squadId && !body.squad && !body.workflowId && !body.workflow) {
    errors.push('Need Either `assistant`, `assistantId`, `squad`, `squadId`, `workflow`, or `workflowId`.');
  }
  if (!body.phoneNumberId && !body.phoneNumber) errors.push('Need Either `phoneNumberId` Or `phoneNumber`.');
  const customer = body.customer as { number?: unknown } | undefined;
  if (!body.customerId && (typeof customer?.number !== 'string' || !E164.test(customer.number))) {
    errors.push('customer.number must be a valid phone number in the E.164 format.');
  }
  const overrides = body.assistantOverrides as { variableValues?: unknown } | undefined;
  if (overrides !== undefined && (typeof overrides !== 'object' || overrides === null)) errors.push('assistantOverrides must be an object');
  return errors;
}

/** Starts the fake on a free loopback port; `apiKey` is the only key it accepts. */
export async function startFakeVapi(apiKey: string): Promise<FakeVapi> {
  const requests: RecordedVapiRequest[] = [];
  const refused = new Set<string>();
  let failures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const answer = (status: number, json: unknown): void => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, status, response: json });
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(json));
      };
      if (req.method !== 'POST' || req.url !== '/call') return answer(404, { message: `Cannot ${req.method} ${req.url}`, error: 'Not Found', statusCode: 404 });
      if (failures > 0) {
        failures--;
        return answer(503, { message: 'Service Unavailable', statusCode: 503 });
      }
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return answer(401, { message: 'Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.', error: 'Unauthorized', statusCode: 401 });
      }
      if (!String(req.headers['content-type']).startsWith('application/json') || typeof body !== 'object' || body === null) {
        return answer(400, { message: ['body must be a JSON object'], error: 'Bad Request', statusCode: 400 });
      }
      const dto = body as Record<string, unknown>;
      const errors = validationErrors(dto);
      if (errors.length > 0) return answer(400, { message: errors, error: 'Bad Request', statusCode: 400 });
      const customer = dto.customer as { number: string };
      if (refused.has(customer.number)) {
        return answer(400, { message: "Couldn't Create Twilio Call. Twilio Error: The number is unverified.", error: 'Bad Request', statusCode: 400 });
      }
      const now = new Date().toISOString();
      return answer(201, {
        id: randomUUID(), orgId: 'org-fake', type: 'outboundPhoneCall', status: 'queued', createdAt: now, updatedAt: now,
        assistantId: dto.assistantId, phoneNumberId: dto.phoneNumberId, customer: dto.customer, assistantOverrides: dto.assistantOverrides,
        phoneCallProvider: 'twilio', phoneCallTransport: 'pstn',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refuseNumber: (number) => void refused.add(number),
    failNext: (count) => void (failures = count),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends a server message to Tolk as Vapi does to an assistant's `serverUrl`: `POST` with
 * `{"message": …}` and the `x-vapi-secret` header (omitted when `secret` is undefined).
 */
export async function sendServerMessage(webhookUrl: string, secret: string | undefined, message: Record<string, unknown>): Promise<Response> {
  return fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret === undefined ? {} : { 'x-vapi-secret': secret }) },
    body: JSON.stringify({ message: { timestamp: Date.now(), ...message } }),
  });
}
