import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { controlSchemas, type EmulatorControl } from './control.ts';
import { sendAdminError } from './problems.ts';
import { ControlError, parseInput } from './validation.ts';

function answerError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof ControlError) return sendAdminError(reply, error.status, error.code, error.message);
  throw error;
}

const faultsBody = z.object({ rules: controlSchemas.faults }).strict();

/** The control API of CONTRACT §4, under `/__admin`: JSON in, JSON out, `{"error":{code,message}}` on 4xx. */
export function registerAdminRoutes(app: FastifyInstance, control: EmulatorControl): void {
  app.post('/__admin/reset', async (_req, reply) => {
    control.reset();
    return reply.code(200).send({ ok: true });
  });

  app.post('/__admin/clients', async (req, reply) => {
    try {
      const client = control.registerClient(req.body as never);
      return reply.code(201).send({
        clientId: client.clientId,
        name: client.name,
        redirectUris: client.redirectUris,
        confidential: client.clientSecret !== null,
      });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/users', async (req, reply) => {
    try {
      const user = control.createUser(req.body as never);
      return reply.code(201).send({
        id: user.id,
        username: user.username,
        name: user.name,
        subscriptionType: user.subscriptionType,
      });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/auto-approve', async (req, reply) => {
    try {
      const { userId } = parseInput(controlSchemas.autoApprove, req.body, 'auto-approve request');
      control.setAutoApprove(userId);
      return reply.send({ userId });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/users/:id/revoke-access', async (req, reply) => {
    try {
      const revoked = control.revokeAccess((req.params as { id: string }).id);
      return reply.send({ revoked });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.delete('/__admin/auto-approve', async (_req, reply) => {
    control.setAutoApprove(null);
    return reply.code(204).send();
  });

  app.get('/__admin/tweets', async () => control.tweets());

  app.get('/__admin/requests', async () => control.requests());

  app.get('/__admin/billing', async () => control.billing());

  app.post('/__admin/billing', async (req, reply) => {
    try {
      return reply.send(
        control.setBilling(req.body as { creditsUsd?: number | null; notEnrolled?: boolean }),
      );
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/clock', async (req, reply) => {
    try {
      const { advanceSeconds } = parseInput(controlSchemas.clock, req.body, 'clock change');
      const now = control.advanceClock(advanceSeconds);
      return reply.send({ now, iso: new Date(now).toISOString() });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/tier', async (req, reply) => {
    try {
      const { tier } = parseInput(controlSchemas.tier, req.body, 'tier change');
      control.setTier(tier);
      return reply.send({ tier });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post('/__admin/faults', async (req, reply) => {
    try {
      const { rules } = parseInput(faultsBody, req.body, 'faults request');
      return reply.send({ rules: control.setFaults(rules) });
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.delete('/__admin/faults', async (_req, reply) => {
    control.clearFaults();
    return reply.code(204).send();
  });
}
