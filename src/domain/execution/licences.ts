import type { DomainError } from '../shared/errors';
import { err, ok, type Result } from '../shared/result';
import type { DirectorySku } from './directory';
import { ExecutionErrors as E } from './execution.errors';

/**
 * Product names for common part numbers, so messages say "Microsoft 365 Business Premium" rather
 * than "SPB". Unknown part numbers are shown as they are.
 */
const PRODUCT_NAMES: Readonly<Record<string, string>> = {
  SPB: 'Microsoft 365 Business Premium',
  O365_BUSINESS_PREMIUM: 'Microsoft 365 Business Standard',
  O365_BUSINESS_ESSENTIALS: 'Microsoft 365 Business Basic',
  O365_BUSINESS: 'Microsoft 365 Apps for business',
  SPE_E3: 'Microsoft 365 E3',
  SPE_E5: 'Microsoft 365 E5',
  SPE_F1: 'Microsoft 365 F3',
  ENTERPRISEPACK: 'Office 365 E3',
  ENTERPRISEPREMIUM: 'Office 365 E5',
  STANDARDPACK: 'Office 365 E1',
  DESKLESSPACK: 'Office 365 F3',
  EXCHANGESTANDARD: 'Exchange Online (Plan 1)',
  EXCHANGEENTERPRISE: 'Exchange Online (Plan 2)',
  POWER_BI_PRO: 'Power BI Pro',
  VISIOCLIENT: 'Visio Plan 2',
  PROJECTPROFESSIONAL: 'Project Plan 3',
};

/** Capability states in which seats can still be assigned (Warning is the grace period). */
const ASSIGNABLE = new Set(['enabled', 'warning']);

/** What people call a licence, from its part number. */
export function productName(partNumber: string): string {
  return PRODUCT_NAMES[partNumber.toUpperCase()] ?? partNumber;
}

/** What people call this subscription's licence. */
export function skuName(sku: DirectorySku): string {
  return productName(sku.skuPartNumber);
}

/** Seats that can still be assigned (`enabledUnits - consumedUnits`, never negative). */
export function freeSeats(sku: DirectorySku): number {
  return Math.max(0, sku.enabledUnits - sku.consumedUnits);
}

/** The subscription with this part number, or a refusal listing what the client does have. */
export function findSku(
  skus: readonly DirectorySku[],
  partNumber: string,
): Result<DirectorySku, DomainError> {
  const wanted = partNumber.trim().toUpperCase();
  const sku = skus.find((s) => s.skuPartNumber.toUpperCase() === wanted);
  if (!sku)
    return err(
      E.skuUnknown(
        wanted,
        skus.map((s) => s.skuPartNumber),
      ),
    );
  return ok(sku);
}

/**
 * Checks that `sku` can be given to `count` more people now: assignable and enough free seats.
 * @returns a note when this takes the last seats, so the technician can order more in time.
 */
export function checkSeats(sku: DirectorySku, count = 1): Result<string | undefined, DomainError> {
  if (!ASSIGNABLE.has(sku.capabilityStatus.toLowerCase()))
    return err(E.skuNotAssignable(skuName(sku), sku.capabilityStatus));
  const free = freeSeats(sku);
  if (free < count) return err(E.noFreeSeats(skuName(sku), sku.consumedUnits, sku.enabledUnits));
  const left = free - count;
  return ok(
    left <= 1
      ? `${skuName(sku)} will have ${left === 0 ? 'no free seats' : '1 free seat'} left after this.`
      : undefined,
  );
}

/** Looks the SKU id up among the subscriptions, for names in titles and notes. */
export function nameOfSkuId(skus: readonly DirectorySku[], skuId: string): string {
  const sku = skus.find((s) => s.skuId === skuId);
  return sku ? skuName(sku) : `licence ${skuId}`;
}
