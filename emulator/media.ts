import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context.ts';

/** Media upload routes: one-shot and chunked, with STATUS (engineer B). */
export function registerMediaRoutes(_app: FastifyInstance, _ctx: EmulatorContext): void {}
