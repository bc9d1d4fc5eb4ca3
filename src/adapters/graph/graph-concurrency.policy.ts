import type { TenantId } from '../../domain/shared/ids';

/**
 * Requests to one client tenant that Cabinet keeps in flight at once, by default: the widest
 * fan-out of one run (an offboarding's six independent planning reads), so a run alone never waits
 * on the cap while two or more runs for one client share it.
 */
export const DEFAULT_MAX_CONCURRENT_REQUESTS_PER_TENANT = 6;

interface TenantSlots {
  inFlight: number;
  readonly waiting: (() => void)[];
}

/**
 * Lets at most `limit` requests per tenant be in flight; the others wait their turn, first come
 * first served, so one large run or many runs for one client cannot swamp that tenant (Graph
 * throttles per app per tenant) and other tenants never wait for it.
 */
export class TenantConcurrencyLimit {
  readonly #limit: number;
  readonly #tenants = new Map<TenantId, TenantSlots>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(
        `maxConcurrentRequestsPerTenant must be a whole number of at least 1 (was ${limit}).`,
      );
    this.#limit = limit;
  }

  /** Runs `work` once the tenant has a free slot, holding the slot until it settles. */
  async run<T>(tenantId: TenantId, work: () => Promise<T>): Promise<T> {
    await this.#acquire(tenantId);
    try {
      return await work();
    } finally {
      this.#release(tenantId);
    }
  }

  #acquire(tenantId: TenantId): Promise<void> {
    let slots = this.#tenants.get(tenantId);
    if (!slots) {
      slots = { inFlight: 0, waiting: [] };
      this.#tenants.set(tenantId, slots);
    }
    if (slots.inFlight < this.#limit) {
      slots.inFlight += 1;
      return Promise.resolve();
    }
    const queue = slots.waiting;
    return new Promise((resolve) => queue.push(resolve));
  }

  /** Hands the slot straight to the next in line, so a newcomer cannot overtake it. */
  #release(tenantId: TenantId): void {
    const slots = this.#tenants.get(tenantId);
    if (!slots) return;
    const next = slots.waiting.shift();
    if (next) {
      next();
      return;
    }
    slots.inFlight -= 1;
    if (slots.inFlight === 0) this.#tenants.delete(tenantId);
  }
}
