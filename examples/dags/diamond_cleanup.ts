// > A diamond with trigger rules and a cleanup task
// `validate` fails on purpose when conf.fail is set: `publish` (all_success) is then
// upstream_failed, `alert` (one_failed) runs, and `cleanup` (all_done) runs either way. The run's
// state comes from its leaves (publish, alert, cleanup): it fails because publish did not run.
import { dag, NonRetryableError } from 'updraft/sdk';

export default dag(
  'diamond_cleanup',
  {
    schedule: '@daily',
    startDate: '2026-01-01',
    tags: ['trigger-rules', 'example'],
    params: { fail: false },
  },
  (d) => {
    const start = d.shell('start', { command: 'echo "staging {{ ds }}"' });
    const validate = d.task('validate', async (ctx) => {
      if (ctx.params.fail) throw new NonRetryableError('validation failed: 3 rows without a customer id');
      return { valid: true };
    });
    const enrich = d.task('enrich', async () => ({ enriched: 42 }));
    const publish = d.task('publish', async (ctx) => ({ published: ctx.upstream }));
    const alert = d.task('alert', { triggerRule: 'one_failed' }, async (ctx) => {
      ctx.log('validation failed: paging the on-call data engineer');
    });
    const cleanup = d.shell('cleanup', {
      command: 'echo "dropping staging tables for {{ ds }}"',
      triggerRule: 'all_done',
    });
    d.chain(start, [validate, enrich], publish);
    cleanup.after(validate, enrich);
    validate.before(alert);
  },
);
// !!
