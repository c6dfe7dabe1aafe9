import fs from 'node:fs';
import http from 'node:http';

/**
 * Sends `POST <path>` with a JSON body to a running server's admin socket (`<data dir>/admin.sock`,
 * served by `listenAdmin` in src/server.ts), so CLI commands work while the server holds the
 * embedded database.
 * @returns the server's JSON answer, or undefined when no server answers on the socket (none, or a
 *   stale socket file).
 * @throws {Error} with the server's message when it answers with an error.
 */
export function viaAdminSocket<T>(socketPath: string, path: string, body: object): Promise<T | undefined> {
  if (!fs.existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => {
        const parsed = JSON.parse(data) as T & { error?: string };
        if (res.statusCode === 200) resolve(parsed);
        else reject(new Error(parsed.error ?? `admin socket answered ${res.statusCode}`));
      });
    });
    req.on('error', () => resolve(undefined)); // stale socket: no server is running
    req.end(JSON.stringify(body));
  });
}
