import { z } from 'zod';
import type { EmulatorContext } from './context.ts';
import { type EmuUser, SUBSCRIPTION_TYPES, type SubscriptionType } from './state.ts';
import { ControlError, parseInput } from './validation.ts';

/** `POST /__admin/users` body. */
export interface UserInput {
  username: string;
  name?: string;
  subscriptionType?: SubscriptionType;
}

const userSchema = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_]{1,15}$/, 'must be 1–15 letters, digits or underscores'),
    name: z.string().min(1).max(50).optional(),
    subscriptionType: z.enum(SUBSCRIPTION_TYPES as [SubscriptionType, ...SubscriptionType[]]).optional(),
  })
  .strict();

/** The user with this username (case-insensitive, as on X). */
export function findUserByUsername(ctx: EmulatorContext, username: string): EmuUser | undefined {
  const wanted = username.toLowerCase();
  for (const user of ctx.state.users.values()) {
    if (user.username.toLowerCase() === wanted) return user;
  }
  return undefined;
}

/** Creates a user; throws ControlError on bad input (400) or a taken username (409). */
export function createUser(ctx: EmulatorContext, input: UserInput): EmuUser {
  const parsed = parseInput(userSchema, input, 'user');
  const taken = findUserByUsername(ctx, parsed.username);
  if (taken !== undefined) {
    throw new ControlError('username_taken', `A user named @${taken.username} already exists.`, 409);
  }
  const user: EmuUser = {
    id: ctx.nextId(),
    username: parsed.username,
    name: parsed.name ?? parsed.username,
    subscriptionType: parsed.subscriptionType ?? 'None',
    description: '',
    createdAt: ctx.clock.now(),
  };
  ctx.state.users.set(user.id, user);
  ctx.markDirty();
  return user;
}
