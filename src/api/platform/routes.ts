import { billingRoutes } from './billing.js';
import { intelligenceRoutes } from './intelligence.js';
import { glossaryRoutes } from './glossary.js';
import type { PlatformRoutePlugin } from './index.js';
import { opsRoutes } from './ops.js';
import { phoneRoutes } from './phone.js';
import { sessionDetailRoutes } from './session-detail.js';
import { sessionRoutes } from './sessions.js';

/** The authenticated platform route plugins, in registration order. */
export const PLATFORM_ROUTE_PLUGINS: readonly PlatformRoutePlugin[] = [intelligenceRoutes, glossaryRoutes, sessionRoutes, sessionDetailRoutes, billingRoutes, phoneRoutes, opsRoutes];
