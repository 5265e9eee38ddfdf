import type { FastifyRequest } from 'fastify';

/**
 * Runs `work` with a signal that aborts when the client disconnects (for answers held open: `?wait`).
 * The connection closing means the client left; `request.raw` emits 'close' as soon as the body is read, so it
 * cannot tell.
 */
export async function whileConnected<T>(
  request: FastifyRequest,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const socket = request.raw.socket;
  const stop = new AbortController();
  const leave = () => stop.abort();
  if (socket.destroyed) leave();
  socket.once('close', leave);
  try {
    return await work(stop.signal);
  } finally {
    socket.off('close', leave);
  }
}
