/**
 * A CloudWatch dashboard and the alarms an operator needs, sent to the alarm topic:
 * - a message in a dead-letter queue (a dispatch, event or wake-up given up on);
 * - a function error (every invocation that threw);
 * - scheduler lag: the oldest scheduler event waiting longer than two sweeps;
 * - a slot counter repaired by the reconciler (the sweep logs "slot counter drift repaired", which
 *   means a bug: shared/services/reconcile.ts), counted by a metric filter on the scheduler's log.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { QueueId } from '../shared/resources.ts';
import type { QueuePair } from './storage.ts';

/** What the reconciler logs for each counter it repaired (shared/services/reconcile.ts). */
const DRIFT_REPAIRED = 'slot counter drift repaired';

/** Scheduler events older than this mean the schedulers are not keeping up (the sweep runs every minute). */
const SCHEDULER_LAG_ALARM = Duration.minutes(2);

interface MonitoringProps {
  functions: Record<string, NodejsFunction>;
  queues: Record<QueueId, QueuePair>;
  schedulerLogs: ILogGroup;
  alarmTopic: ITopic;
}

class UpdraftMonitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  readonly driftRepairs: Metric;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.alarmTopic);
    const alarm = (
      alarmId: string,
      metric: IMetric,
      opts: { threshold: number; evaluationPeriods?: number; description: string },
    ) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold: opts.threshold,
        evaluationPeriods: opts.evaluationPeriods ?? 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: opts.description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    const namespace = `Updraft/${Stack.of(this).stackName}`;
    new MetricFilter(this, 'DriftRepairs', {
      logGroup: props.schedulerLogs,
      filterPattern: FilterPattern.literal(`"${DRIFT_REPAIRED}"`),
      metricNamespace: namespace,
      metricName: 'SlotCounterDriftRepairs',
      metricValue: '1',
      defaultValue: 0,
    });
    this.driftRepairs = new Metric({
      namespace,
      metricName: 'SlotCounterDriftRepairs',
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    alarm('DriftRepairsAlarm', this.driftRepairs, {
      threshold: 1,
      description:
        'The reconciler repaired a slot counter that did not match the slots held: a bug (see the scheduler log).',
    });

    const five = { period: Duration.minutes(5) };
    for (const [qid, pair] of Object.entries(props.queues)) {
      alarm(
        `${title(qid)}DlqAlarm`,
        pair.dlq.metricApproximateNumberOfMessagesVisible({ ...five, statistic: 'Maximum' }),
        {
          threshold: 1,
          description: `A message reached the ${qid} dead-letter queue: read it, fix the cause, redrive it.`,
        },
      );
    }
    const lag = props.queues.schedulerEvents.queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
    alarm('SchedulerLagAlarm', lag, {
      threshold: SCHEDULER_LAG_ALARM.toSeconds(),
      evaluationPeriods: 3,
      description: 'Scheduler events wait longer than two minutes: the scheduler is failing or throttled.',
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${title(name)}ErrorsAlarm`, fn.metricErrors({ ...five, statistic: 'Sum' }), {
        threshold: 1,
        description: `The ${name} function failed an invocation (see its log).`,
      });
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const fns = Object.entries(props.functions);
    const queues = Object.entries(props.queues);
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# Updraft\nQueues, functions and the reconciler. Alarms go to the alarm topic.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue depth',
        left: queues.map(([qid, p]) =>
          p.queue.metricApproximateNumberOfMessagesVisible({ label: qid, period: Duration.minutes(1) }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Oldest message age (s) — scheduler lag',
        left: queues.map(([qid, p]) =>
          p.queue.metricApproximateAgeOfOldestMessage({ label: qid, period: Duration.minutes(1) }),
        ),
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Dead letters',
        metrics: queues.map(([qid, p]) =>
          p.dlq.metricApproximateNumberOfMessagesVisible({ label: `${qid} DLQ` }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Invocations',
        left: fns.map(([n, f]) => f.metricInvocations({ label: n })),
        width: 6,
      }),
      new GraphWidget({ title: 'Errors', left: fns.map(([n, f]) => f.metricErrors({ label: n })), width: 6 }),
      new GraphWidget({
        title: 'Duration p99 (ms)',
        left: fns.map(([n, f]) => f.metricDuration({ label: n, statistic: 'p99' })),
        width: 6,
      }),
      new GraphWidget({
        title: 'Throttles',
        left: fns.map(([n, f]) => f.metricThrottles({ label: n })),
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Slot counter repairs (a bug when > 0)',
        left: [this.driftRepairs],
        width: 12,
      }),
      new GraphWidget({
        title: 'Worker concurrency',
        left: [
          new MathExpression({
            expression: 'm1',
            usingMetrics: {
              m1: props.functions.worker!.metric('ConcurrentExecutions', { statistic: 'Maximum' }),
            },
            label: 'worker',
          }),
        ],
        width: 12,
      }),
    );
  }
}

function title(name: string): string {
  return name
    .split(/[-_]/)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export { DRIFT_REPAIRED, UpdraftMonitoring };
