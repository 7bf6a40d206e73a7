// A failure that repeats on a timer (an engine step every 50 ms while the disk
// is full) said once, then summed up once a minute, then "works again": one
// line a minute instead of twenty a second, which would bury the lines that
// say what else happened and fill the very disk that is full.

export const FAILURE_SUMMARY_EVERY_MS = 60_000;

export class FailureLog {
  private failures = 0;
  private since = 0;
  private lastMessage = "";
  private lastSaidAt = 0;

  constructor(
    /** what fails, as the start of each line: "engine step" */
    private readonly what: string,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  failed(message: string): void {
    const t = this.now();
    this.failures++;
    if (this.failures === 1) {
      this.since = t;
      this.say(t, `${this.what} failed: ${message}; will retry`);
    } else if (message !== this.lastMessage) {
      this.say(t, `${this.what} failed (${this.failures} times since ${iso(this.since)}): ${message}; will retry`);
    } else if (t - this.lastSaidAt >= FAILURE_SUMMARY_EVERY_MS) {
      this.say(t, `${this.what} still failing (${this.failures} times since ${iso(this.since)}): ${message}; will retry`);
    }
    this.lastMessage = message;
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.log(`${this.what} works again after ${this.failures} failure${this.failures === 1 ? "" : "s"} since ${iso(this.since)}`);
    this.failures = 0;
    this.lastMessage = "";
  }

  private say(t: number, line: string): void {
    this.lastSaidAt = t;
    this.log(line);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
