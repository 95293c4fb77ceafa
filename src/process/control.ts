// The control socket: a Unix domain socket only its owner can use (mode 0600), on which the
// primary answers `frontline status/reload/stop`. One JSON request line, one JSON reply line.
import { lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseControlRequest, type ControlReply, type ControlRequest } from './protocol.ts';

/** A request line longer than this is not ours: drop the connection rather than buffer it. */
const MAX_LINE = 64 * 1024;
/** A client that connects and says nothing is dropped after this long. */
const IDLE_MS = 10_000;

/** `$XDG_RUNTIME_DIR/frontline.sock`, else `<tmpdir>/frontline-<uid>.sock`. */
export function defaultControlSocket(): string {
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir) return join(runtimeDir, 'frontline.sock');
  return join(tmpdir(), `frontline-${process.getuid?.() ?? 'user'}.sock`);
}

export function controlSocketPath(configured: string): string {
  return configured || defaultControlSocket();
}

export interface ControlServer {
  readonly path: string;
  /** Stops accepting, waits for replies being prepared, drops idle connections, removes the file. */
  close(): Promise<void>;
}

/**
 * Listens on `path`. A socket file left by a dead process is replaced; a live one means another
 * frontline runs there, which is an error (as is any other kind of file at that path).
 */
export async function listenControlSocket(
  path: string,
  handle: (request: ControlRequest) => Promise<ControlReply>,
): Promise<ControlServer> {
  await removeStaleSocket(path);
  // Connections that have not sent their request yet: close() drops them, and waits for the rest.
  const idle = new Set<Socket>();
  const server = createServer((socket) => {
    idle.add(socket);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('close', () => idle.delete(socket));
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\n');
      if (end < 0) {
        if (buffer.length > MAX_LINE) socket.destroy();
        return;
      }
      socket.off('data', onData);
      idle.delete(socket);
      const reply = (r: ControlReply) => socket.end(JSON.stringify(r) + '\n');
      let parsed: ControlRequest | string;
      try {
        parsed = parseControlRequest(JSON.parse(buffer.slice(0, end)));
      } catch {
        parsed = 'the request line is not JSON';
      }
      if (typeof parsed === 'string') reply({ ok: false, error: parsed });
      else handle(parsed).then(reply, (err: unknown) => reply({ ok: false, error: String(err) }));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The primary binds a Unix socket synchronously inside listen(), so this umask covers exactly
    // the creation of the file: it is never group- or world-accessible, not even briefly.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  const owned = lstatSync(path);
  // Removes the file on any exit, including one no one planned for; only if it is still ours.
  const removeFile = () => {
    try {
      const now = lstatSync(path);
      if (now.ino === owned.ino && now.dev === owned.dev) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', removeFile);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of idle) s.destroy();
        server.close(() => {
          removeFile();
          process.off('exit', removeFile);
          resolve();
        });
      }),
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it (set control_socket to another path)`);
  const live = await new Promise<boolean>((resolve, reject) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve(false);
      else reject(new Error(`cannot check the control socket ${path}: ${err.message}`));
    });
  });
  if (live) throw new Error(`another frontline is running with control socket ${path}`);
  unlinkSync(path);
}

/** Sends one request and returns the reply. `timeoutMs` 0 waits as long as the primary works. */
export function sendControlRequest(path: string, request: ControlRequest, timeoutMs: number): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      f();
    };
    if (timeoutMs > 0) {
      socket.setTimeout(timeoutMs, () => settle(() => reject(new Error(`frontline did not answer on ${path} within ${timeoutMs} ms`))));
    }
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      settle(() => {
        try {
          resolve(JSON.parse(buffer.slice(0, end)) as ControlReply);
        } catch {
          reject(new Error(`frontline sent a reply that is not JSON on ${path}`));
        }
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          new Error(
            err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
              ? `no frontline is running: nothing listens on ${path} (is it started? pass --socket)`
              : `${path}: ${err.message}`,
          ),
        ),
      ),
    );
    socket.once('close', () => settle(() => reject(new Error(`frontline closed ${path} without replying`))));
  });
}
