import { AppError } from '../../errors.js';
import { requireRole } from './auth.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorBody, errorResponses } from './schemas.js';

/**
 * Routes spec 000 documents that this Tolk does not serve yet. They answer the spec's own
 * `501 NOT_IMPLEMENTED` (not a 404), so a client can tell an unbuilt feature from a wrong URL; the
 * message says what is missing. Authenticated ones check the key and the documented role first.
 */
export const notImplementedRoutes: PlatformRoutePlugin = async (app, _ctx) => {
  const schema = (summary: string, tag: string) => ({ tags: [tag], summary, response: { ...errorResponses, 501: errorBody } });

  app.post('/sessions/:id/phone/start', { preHandler: requireRole('admin'), schema: schema('Outbound PSTN call (not available yet: 501)', 'sessions') }, async () => {
    throw new AppError('NOT_IMPLEMENTED', 'Outbound phone calls are not available on this server yet: no telephony provider (Vapi or Twilio) is integrated');
  });
};
