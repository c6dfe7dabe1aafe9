import type { WebSocket, WebSocketServer } from 'ws';

/**
 * WebSocket keep-alive for every socket of a server (every transport): a ping each `intervalMs`;
 * a peer that has not answered the previous ping with a pong by the next one is dead (a vanished
 * phone, a cut network) and is terminated, so its stream ends and its slot is freed instead of being
 * held until TCP notices, which can take hours. Browsers and WebSocket libraries answer pings
 * by themselves.
 * @returns a function that stops the heartbeat.
 */
export function startHeartbeat(wss: WebSocketServer, intervalMs: number): () => void {
  const answered = new WeakMap<WebSocket, boolean>();
  wss.on('connection', (ws: WebSocket) => {
    answered.set(ws, true);
    ws.on('pong', () => answered.set(ws, true));
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (answered.get(ws) === false) {
        ws.terminate();
        continue;
      }
      answered.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
