import type { PlatformRoutePlugin } from './index.js';

/** The authenticated platform route plugins, in registration order. */
export const PLATFORM_ROUTE_PLUGINS: readonly PlatformRoutePlugin[] = [];
