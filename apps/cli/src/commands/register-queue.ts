import type { Command } from 'commander';
import { addModelOptions } from '../config';
import { parseCount } from '../parse';
import { addQueueOptions } from './queue-flags';
import { runQueueClean, runQueueDrain, runQueueStatus } from './queue';
import { runWorker, type WorkerFlags } from './worker';

/** Registers the distributed mode's commands: `worker` and `queue status|drain|clean` (embed's --queue is on embed). */
export function addQueueCommands(program: Command): void {
  addQueueOptions(
    addModelOptions(
      program
        .command('worker')
        .description('distributed mode: embed jobs from the queue until SIGTERM/SIGINT (then finish the current jobs, exit 0)')
        .requiredOption('--queue <url>', 'the Redis of the queue: redis://HOST:PORT')
        .option('-c, --concurrency <n>', 'jobs at once (default 1)', parseCount('--concurrency'))
        .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:PORT/metrics', parseCount('--metrics-port'))
        .option('--stalled-interval <ms>', "how often dead workers' jobs are looked for (default 30000)", parseCount('--stalled-interval'))
        .option('--lock-duration <ms>', "a dead worker's job is taken over this long after its last lock renewal (default 30000; renewed every half of it, so keep it well above event-loop stalls)", parseCount('--lock-duration')),
    ),
  ).action((flags: WorkerFlags) => runWorker(flags));

  const queue = program.command('queue').description('distributed mode: inspect or empty a queue');
  const sub = (name: string, description: string) =>
    addQueueOptions(queue.command(name).description(description).requiredOption('--queue <url>', 'the Redis of the queue: redis://HOST:PORT'));
  sub('status', 'jobs, results, counters and failed jobs (with errors) as JSON').action(runQueueStatus);
  sub('drain', 'remove the jobs not started yet (running jobs and results stay)').action(runQueueDrain);
  sub('clean', 'delete every job, the results and the recorded model')
    .option('--force', 'even while jobs are running')
    .action(runQueueClean);
}
