import { z } from 'zod';
import { noContent, type RouteDocs } from '../openapi.js';

/** Spec 003's error body `{"error":"…"}`. */
export const conversationErrorBody = z.object({ error: z.string() });

/** The body of `POST /api/v1/session/create` (spec 003); the route parses its body with it. */
export const createConversationBody = z.object({
  language: z.string().min(2).max(35).describe('The host\'s language code, e.g. en'),
  translate_language: z.string().min(2).max(35).describe('The guest\'s language code, e.g. es'),
});

/** The body of `POST /api/v1/sign-in` (docs/security.md "Lock-down"); the route parses its body with it. */
export const signInBody = z.object({ key: z.string().min(1).max(200).describe('An API key: ip_live_… or ip_test_…') });

const unavailable = conversationErrorBody.describe('The conversation store (Redis) or the engines are unavailable');

/** `GET /api/v1/languages` (spec 003's three fields, then Tolk's, docs/conversations.md "Languages"). */
export const languagesDocs: RouteDocs = {
  response: {
    200: z.object({
      supported_languages: z.array(z.tuple([z.string(), z.string()])).describe('[code, name] pairs (spec 003)'),
      default_source: z.string(),
      default_target: z.string(),
      languages: z.array(z.object({
        code: z.string(), name: z.string(),
        heard: z.boolean().describe('A recognizer exists: it can be spoken into Tolk'),
        shown: z.boolean().describe('It can be translated into (text)'),
        spoken: z.boolean().describe('A voice exists: the translation can be spoken'),
      })),
      pairs: z.array(z.object({ source: z.string(), target: z.string(), speech: z.boolean() })).describe('Every source → target pair the engines serve'),
      access: z.object({
        key_required: z.boolean().describe('TOLK_REQUIRE_KEY: the live stream and new conversations need a key'),
        signed_in: z.boolean().describe('This request carries a valid key (Bearer or the sign-in cookie)'),
      }),
    }),
    503: unavailable,
  },
};

/** `POST /api/v1/session/create` (spec 003, docs/conversations.md). */
export const createConversationDocs: RouteDocs = {
  body: createConversationBody,
  response: {
    200: z.object({
      conversation_id: z.string().describe('The conversation\'s capability: whoever has it may join'),
      join_url: z.string().describe('<public origin>/join/<conversation_id>'),
      join_url_warning: z.string().nullable().describe('Set when the link is a loopback address a phone cannot open'),
    }),
    400: conversationErrorBody.describe('Malformed body, or a language the engines do not serve'),
    401: conversationErrorBody.describe('TOLK_REQUIRE_KEY is on and the request has no valid key'),
    429: conversationErrorBody.describe('Too many conversations created from this address (TOLK_CONVERSATION_CREATE_PER_MIN)'),
    503: unavailable,
  },
};

/** `GET /api/v1/session/{conversation_id}` (spec 003). */
export const getConversationDocs: RouteDocs = {
  params: z.object({ conversation_id: z.string() }),
  response: {
    200: z.object({ user_a_lang: z.string(), user_a_translate: z.string() }),
    404: conversationErrorBody.describe('No such conversation, or it expired after 15 idle minutes'),
    503: unavailable,
  },
};

/** `POST /api/v1/sign-in`. */
export const signInDocs: RouteDocs = {
  body: signInBody,
  response: {
    204: noContent('Signed in: Set-Cookie tolk_key (HttpOnly, SameSite=Strict, Path=/api/v1, 30 days)'),
    400: conversationErrorBody.describe('The body is not {"key": "<API key>"}'),
    401: conversationErrorBody.describe('Invalid API key.'),
  },
};

/** `POST /api/v1/sign-out`. */
export const signOutDocs: RouteDocs = { response: { 204: noContent('Signed out: the sign-in cookie is cleared') } };
