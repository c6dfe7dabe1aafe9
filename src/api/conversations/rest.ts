import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { ConversationStoreUnavailableError, type ConversationStore } from '../../domain/conversations.js';
import { conversationAccessAllowed, requireConversationKey, signInRoutes } from './access.js';
import { conversationLanguages, conversationPairs, findConversationLanguage } from '../../gateway/conversation-languages.js';
import { loopbackInviteWarning, publicOrigin } from '../public-url.js';
import { createConversationBody as createBody, createConversationDocs, getConversationDocs, languagesDocs } from './openapi-schemas.js';

function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ error: message });
}

/**
 * The REST half of the conversations surface (spec 003): `GET /api/v1/languages`, the web app's
 * sign-in and sign-out (docs/security.md "Lock-down"),
 * `POST /api/v1/session/create` (rate-limited per client address: the conversation id is the only
 * capability, see docs/conversations.md) and `GET /api/v1/session/:conversation_id`.
 */
export async function conversationRestRoutes(app: FastifyInstance, ctx: AppContext, store: ConversationStore): Promise<void> {
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof ConversationStoreUnavailableError) return fail(reply, 503, error.message);
    const status = error.statusCode ?? 500;
    if (status === 429) return fail(reply, 429, error.message);
    if (status >= 400 && status < 500) return fail(reply, status, error.message);
    request.log.error({ err: error }, 'conversations request failed');
    return fail(reply, 500, 'Internal server error.');
  });

  signInRoutes(app, ctx);

  app.get('/api/v1/languages', { schema: { tags: ['conversations'], summary: 'Languages and pairs the engines serve (spec 003)', security: [], docs: languagesDocs } }, async (request, reply) => {
    const languages = conversationLanguages(ctx.engines);
    const sources = languages.filter((l) => l.recognized);
    const targets = languages.filter((l) => l.translated);
    if (sources.length === 0 || targets.length === 0) return fail(reply, 503, 'Service temporarily unavailable.');
    const defaultTarget = targets.find((l) => l.code === 'es') ?? targets[0];
    return {
      supported_languages: languages.map((l) => [l.code, l.name]),
      default_source: sources[0]?.code,
      default_target: defaultTarget?.code,
      // Beside spec 003's fields (docs/conversations.md "Languages"): what each language can do, and every pair.
      languages: languages.map((l) => ({ code: l.code, name: l.name, heard: l.recognized, shown: l.translated, spoken: l.spoken })),
      pairs: conversationPairs(ctx.engines),
      // Lock-down (docs/security.md): whether the live stream and new conversations need a key, and whether this request has one.
      access: { key_required: ctx.config.requireKey, signed_in: ctx.config.requireKey ? await conversationAccessAllowed(ctx, request) : false },
    };
  });

  await app.register(async (limited) => {
    await limited.register(fastifyRateLimit, {
      max: ctx.config.conversationCreatePerMin,
      timeWindow: 60_000,
      ...(ctx.redis ? { redis: ctx.redis, nameSpace: 'tolk:conversation-create:' } : {}),
      // Redis down: creation itself answers 503 "Redis service is unavailable." (spec 003).
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error(`Too many conversations created; retry in ${Math.ceil(context.ttl / 1000)} seconds.`), { statusCode: 429 }),
    });
    limited.post('/api/v1/session/create', {
      onRequest: requireConversationKey(ctx),
      schema: { tags: ['conversations'], description: 'Create a conversation (spec 003).', security: [], docs: createConversationDocs },
    }, async (request, reply) => {
      const body = createBody.safeParse(request.body);
      if (!body.success) return fail(reply, 400, 'Send {"language": "<code>", "translate_language": "<code>"}.');
      for (const code of [body.data.language, body.data.translate_language]) {
        if (!findConversationLanguage(ctx.engines, code)) return fail(reply, 400, `Unsupported language "${code}".`);
      }
      const conversation = await store.create(body.data.language, body.data.translate_language);
      const origin = publicOrigin(ctx.config, request);
      // join_url_warning: a loopback link cannot be opened on a phone (the page shows it beside the QR code).
      return { conversation_id: conversation.id, join_url: `${origin}/join/${conversation.id}`, join_url_warning: loopbackInviteWarning(origin) };
    });
  });

  app.get('/api/v1/session/:conversation_id', { schema: { tags: ['conversations'], summary: 'A conversation\'s languages (spec 003)', security: [], docs: getConversationDocs } }, async (request, reply) => {
    const { conversation_id: id } = request.params as { conversation_id: string };
    const conversation = await store.get(id);
    if (!conversation) return fail(reply, 404, 'Session not found.');
    return { user_a_lang: conversation.userALang, user_a_translate: conversation.userATranslate };
  });
}
