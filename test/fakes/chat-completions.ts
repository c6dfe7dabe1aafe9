import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received, as parsed. */
export interface ChatRequest {
  authorization: string | undefined;
  body: { model: string; messages: Array<{ role: string; content: string }>; temperature?: number; max_tokens?: number; [k: string]: unknown };
}

/**
 * A stand-in for an OpenAI-compatible chat-completions server (OpenAI API reference, "Create chat
 * completion"): `POST /v1/chat/completions` with `{model, messages[, temperature, max_tokens]}`
 * answers `{id, object: "chat.completion", created, model, choices: [{index, message: {role:
 * "assistant", content}, finish_reason: "stop"}], usage}`. A request without `model` or with an
 * empty `messages` is 400 in OpenAI's error shape; a wrong bearer key 401. `reply` makes the answer
 * from the messages. `failNext(n)` answers the next `n` requests 503 in OpenAI's error shape
 * (counted in `failed`, not in `requests`).
 */
export class FakeChatCompletions {
  readonly requests: ChatRequest[] = [];
  /** Requests answered 503 by {@link FakeChatCompletions.failNext}. */
  failed = 0;
  private failing = 0;
  private readonly server: Server;

  constructor(private readonly reply: (messages: ChatRequest['body']['messages']) => string, private readonly apiKey?: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on port 0; returns the base URL (`http://127.0.0.1:<port>/v1`). */
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Answers the next `count` requests 503 (`server_error`), as an overloaded server does. */
  failNext(count: number): void {
    this.failing = count;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: object): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(404, { error: { message: 'not found', type: 'invalid_request_error', code: null } });
    if (this.apiKey && req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    if (this.failing > 0) {
      this.failing--;
      this.failed++;
      return send(503, { error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null } });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest['body'];
    this.requests.push({ authorization: req.headers.authorization, body });
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return send(400, { error: { message: 'model and messages are required', type: 'invalid_request_error', param: null, code: null } });
    }
    const content = this.reply(body.messages);
    send(200, {
      id: `chatcmpl-${this.requests.length}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
  }
}
