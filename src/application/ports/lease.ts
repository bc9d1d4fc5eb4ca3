/**
 * A named lease that at most one holder has at a time, e.g. the SLA sweeper's (issue 5: one
 * instance sweeps at a time). A holder that stops renewing loses it once `ttlMs` has passed.
 * @remarks Instants are passed in so the holder's clock decides expiry; instances whose clocks
 * disagree by more than the TTL could both believe they hold it, so keep the TTL well above skew
 * and fence the work itself (the sweeper's writes are ETag-guarded anyway).
 */
export interface Lease {
  /** Takes the lease if nobody holds it, its holder let it lapse, or `holder` already has it. */
  tryAcquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Extends the lease `holder` has; false if it lapsed and someone else took it (stop working). */
  renew(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Gives the lease up at once if `holder` has it, so another instance need not wait for expiry. */
  release(name: string, holder: string): Promise<void>;
}
