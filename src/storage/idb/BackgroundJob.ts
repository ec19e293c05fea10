/**
 * Runs one background task at a time: `schedule()` while it runs makes it
 * run once more afterwards, so requests coalesce instead of queueing.
 */
export class BackgroundJob {
  private running: Promise<void> | null = null;
  private requested = false;

  /** @param run the task; must not reject. @param canRun whether a schedule starts it (false: ignored). */
  constructor(
    private readonly run: () => Promise<void>,
    private readonly canRun: () => boolean,
  ) {}

  /** Starts the task, unless it is running (then it runs once more afterwards). */
  schedule(): void {
    if (!this.canRun()) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.requested) {
        this.requested = false;
        this.schedule();
      }
    });
  }

  /** Resolves when the task does not run. Never rejects. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Forgets a schedule made while the task ran: after a failure it is retried at the next schedule, not in a loop. */
  dropRequest(): void {
    this.requested = false;
  }
}
