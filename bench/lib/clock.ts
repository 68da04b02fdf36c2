/**
 * Wall-clock milliseconds with sub-millisecond precision. Every bench process uses this one clock,
 * so a request timed in one process and an SMTP accept timed in another can be subtracted.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
