import type { FaultRule } from './state.ts';

/** `{id}` (OpenAPI style) and `:id` (Fastify style) templates are the same thing. */
function normaliseTemplate(path: string): string {
  return path.replace(/\{([^}/]+)\}/g, ':$1');
}

/**
 * The first rule matching the request, if it fires this time: method (or `*`), then the path, either
 * exactly or as the route template the request matched; then the rule's probability. A rule with a
 * count is used up by each hit and removed at zero.
 */
export function takeFault(
  rules: FaultRule[],
  method: string,
  path: string,
  routeTemplate: string | undefined,
  random: () => number = Math.random,
): FaultRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as FaultRule;
    if (rule.method !== '*' && rule.method !== method) continue;
    const rulePath = normaliseTemplate(rule.path);
    if (rulePath !== path && rulePath !== routeTemplate) continue;
    if (rule.probability < 1 && random() >= rule.probability) continue;
    if (rule.remaining !== null) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) rules.splice(i, 1);
    }
    return rule;
  }
  return undefined;
}
