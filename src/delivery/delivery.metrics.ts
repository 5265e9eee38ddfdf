import { Counter, Histogram, type Registry } from 'prom-client';

/** The dispatcher's Prometheus metrics, registered on the app's registry. */
export interface DeliveryMetrics {
  published: Counter;
  failed: Counter<'code'>;
  needsReview: Counter;
  /** Seconds after `scheduledAt` when the post's last item was published. */
  lateness: Histogram;
  /** Posts given back to wait (rate limit, X unavailable). */
  deferred: Counter<'reason'>;
  /** Creates whose answer was lost. */
  ambiguous: Counter;
  /** Reconciliations by result: found, absent, undecidable. */
  reconciled: Counter<'result'>;
  claimed: Counter;
}

/** Creates the metrics on `registry` (once per registry). */
export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const registers = [registry];
  return {
    published: new Counter({
      name: 'xgate_posts_published_total',
      help: 'Posts whose every item is published on X.',
      registers,
    }),
    failed: new Counter({
      name: 'xgate_posts_failed_total',
      help: 'Posts that ended failed, by error code.',
      labelNames: ['code'],
      registers,
    }),
    needsReview: new Counter({
      name: 'xgate_posts_needs_review_total',
      help: 'Posts set aside because xgate could not tell whether X accepted an item.',
      registers,
    }),
    lateness: new Histogram({
      name: 'xgate_publish_lateness_seconds',
      help: 'Seconds between a post’s scheduled time and the publication of its last item.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers,
    }),
    deferred: new Counter({
      name: 'xgate_posts_deferred_total',
      help: 'Times a post was given back to wait, by reason (rate_limit, x_unavailable).',
      labelNames: ['reason'],
      registers,
    }),
    ambiguous: new Counter({
      name: 'xgate_publish_ambiguous_total',
      help: 'Creates whose answer was lost (timeout, cut connection, 5xx) and had to be reconciled.',
      registers,
    }),
    reconciled: new Counter({
      name: 'xgate_publish_reconciliations_total',
      help: 'Reconciliations against the account timeline, by result (found, absent, undecidable).',
      labelNames: ['result'],
      registers,
    }),
    claimed: new Counter({
      name: 'xgate_posts_claimed_total',
      help: 'Posts claimed by this process’s dispatcher.',
      registers,
    }),
  };
}
