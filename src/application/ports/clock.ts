/** Time, injected everywhere so tests and the domain never read the wall clock. */
export interface Clock {
  now(): Date;
}
