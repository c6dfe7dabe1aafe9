/**
 * Imported first by the benchmarks that load `@livekit/rtc-node`: its logger logs at debug level to
 * stdout unless `NODE_ENV` is `production` (read when the module loads), which would mix JSON lines
 * into a benchmark's output. Nothing in Tolk reads `NODE_ENV`.
 */
process.env.NODE_ENV ??= 'production';
