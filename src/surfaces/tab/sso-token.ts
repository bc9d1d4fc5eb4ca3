import { Agent } from 'node:https';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Clock } from '../../application/ports/clock';
import type { Person } from '../../domain/change-request/change-request';
import { asObjectId, asTenantId, type TenantId } from '../../domain/shared/ids';
import { err, ok, type Result } from '../../domain/shared/result';

/**
 * Client ids of the Teams hosts allowed to ask Entra for a token to Cabinet's tab API (`azp` in v2
 * tokens, `appid` in v1): Teams desktop and mobile, and Teams on the web.
 * @remarks The Microsoft 365 and Outlook hosts are left out on purpose: Cabinet's tab is declared for
 * Teams only, so a token those hosts obtained is refused.
 */
export const TEAMS_CLIENT_IDS: readonly string[] = [
  '1fec8e78-bce4-4aaf-ab1b-5451cc387264',
  '5e3ce6c0-2b1f-4285-8d4b-75ee78787346',
];

/** The delegated scope the Teams SSO token must carry; ID tokens carry no `scp` at all. */
export const TAB_SCOPE = 'access_as_user';

/** Entra allows at most five minutes of clock skew; more would stretch every token's life. */
const MAX_CLOCK_TOLERANCE_SECONDS = 300;
const DEFAULT_MAX_CACHED_TENANTS = 100;
const ALLOWED_ALGORITHMS = ['RS256'];

export type TokenVersion = '1.0' | '2.0';

/** Who signs the tokens and where the signing keys are: Entra in production, the sandbox cloud locally. */
export interface TokenAuthority {
  /** URL of the JSON Web Key Set that signs `tenantId`'s tokens. */
  readonly jwksUri: (tenantId: TenantId) => string;
  /** The exact `iss` a token of this version from this tenant carries. */
  readonly issuer: (tenantId: TenantId, version: TokenVersion) => string;
  /** A PEM CA to trust for the key set's host (the sandbox cloud's local CA); absent means the system's. */
  readonly ca?: string;
}

/** Microsoft Entra ID (login.microsoftonline.com), per tenant. */
export const ENTRA_AUTHORITY: TokenAuthority = {
  jwksUri: (tid) => `https://login.microsoftonline.com/${tid}/discovery/v2.0/keys`,
  issuer: (tid, version) =>
    version === '2.0'
      ? `https://login.microsoftonline.com/${tid}/v2.0`
      : `https://sts.windows.net/${tid}/`,
};

/** Why a token was refused; logged, never shown to the caller in more detail than "expired" or "invalid". */
export type TokenFailure =
  | 'missing'
  | 'malformed'
  | 'unsupported_version'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_scope'
  | 'unauthorized_client'
  | 'unknown_tenant'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'keys_unavailable';

export interface TabTokenValidatorOptions {
  /** The Entra app (client) id Cabinet's tab API is registered as: the Teams app's `webApplicationInfo.id`. */
  readonly clientId: string;
  /** Host of the Application ID URI `api://<host>/<clientId>` (v1 tokens carry it as `aud`). */
  readonly applicationIdHost?: string;
  /** Defaults to Entra. */
  readonly authority?: TokenAuthority;
  /** Defaults to the Teams clients. */
  readonly authorizedClientIds?: readonly string[];
  /**
   * Whether Cabinet serves this tenant at all (the MSP's or an onboarded client's). Asked before any
   * signing keys are fetched, so forged tokens with made-up tenants cost no outbound request.
   */
  readonly tenantAllowed: (tenantId: TenantId) => Promise<boolean>;
  readonly clock: Clock;
  /** Seconds of skew allowed on `exp`/`nbf`; at most (and by default) 300. */
  readonly clockToleranceSeconds?: number;
  /** Tenants whose key sets are kept; the least recently used is dropped beyond this. */
  readonly maxCachedTenants?: number;
  /** Overrides how a tenant's key set is obtained (tests with a local key set). */
  readonly keySetFor?: (tenantId: TenantId) => JWTVerifyGetKey;
}

/**
 * Validates Teams tab SSO tokens (reliability-security §2.4): signature by the tenant's published
 * keys, `iss` exactly the tenant's issuer with the same tenant as `tid`, `aud` Cabinet's API,
 * `scp` with `access_as_user` (so ID tokens fail), `azp`/`appid` a Teams client, `exp`/`nbf` within
 * five minutes of skew, and a tenant Cabinet serves.
 * @remarks The caller's identity is `tid` + `oid` from the verified payload, never the unverified one,
 * never a UPN or e-mail.
 */
export class TabTokenValidator {
  private readonly authority: TokenAuthority;
  private readonly audiences: readonly string[];
  private readonly clients: ReadonlySet<string>;
  private readonly toleranceSeconds: number;
  private readonly maxCachedTenants: number;
  private readonly keySets = new Map<TenantId, JWTVerifyGetKey>();
  private readonly agent: Agent | undefined;

  constructor(private readonly options: TabTokenValidatorOptions) {
    this.authority = options.authority ?? ENTRA_AUTHORITY;
    const clientId = options.clientId.toLowerCase();
    this.audiences = options.applicationIdHost
      ? [clientId, `api://${options.applicationIdHost.toLowerCase()}/${clientId}`]
      : [clientId];
    this.clients = new Set(
      (options.authorizedClientIds ?? TEAMS_CLIENT_IDS).map((c) => c.toLowerCase()),
    );
    this.toleranceSeconds = Math.min(
      Math.max(0, options.clockToleranceSeconds ?? MAX_CLOCK_TOLERANCE_SECONDS),
      MAX_CLOCK_TOLERANCE_SECONDS,
    );
    this.maxCachedTenants = Math.max(1, options.maxCachedTenants ?? DEFAULT_MAX_CACHED_TENANTS);
    this.agent = this.authority.ca
      ? new Agent({ ca: this.authority.ca, keepAlive: true })
      : undefined;
  }

  /** How many tenants' key sets are held now (bounded by `maxCachedTenants`). */
  get cachedTenants(): number {
    return this.keySets.size;
  }

  /** The authenticated person, or why the token is refused. */
  async validate(token: string | undefined): Promise<Result<Person, TokenFailure>> {
    if (!token) return err('missing');
    const claimed = this.precheck(token);
    if (!claimed.ok) return claimed;
    const { tid, version } = claimed.value;
    if (!(await this.options.tenantAllowed(tid))) return err('unknown_tenant');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet(tid), {
        issuer: this.authority.issuer(tid, version),
        audience: [...this.audiences],
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.toleranceSeconds,
        currentDate: this.options.clock.now(),
        requiredClaims: ['exp', 'iat', 'tid', 'oid'],
      }));
    } catch (error: unknown) {
      return err(verificationFailure(error));
    }
    // Checked again on what the signature covers: the precheck only read unverified claims.
    const verified = this.claims(payload);
    if (!verified.ok) return verified;
    if (verified.value.tid !== tid) return err('wrong_issuer');
    const oid = asObjectId(typeof payload.oid === 'string' ? payload.oid : '');
    if (!oid) return err('malformed');
    const name = typeof payload.name === 'string' ? payload.name.trim().slice(0, 120) : '';
    return ok({ tid, oid, name });
  }

  /** Cheap checks on the unverified token, before any key is fetched. */
  private precheck(
    token: string,
  ): Result<{ readonly tid: TenantId; readonly version: TokenVersion }, TokenFailure> {
    let payload: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg))
        return err('malformed');
      payload = decodeJwt(token);
    } catch {
      return err('malformed');
    }
    return this.claims(payload);
  }

  private claims(
    payload: JWTPayload,
  ): Result<{ readonly tid: TenantId; readonly version: TokenVersion }, TokenFailure> {
    const tid = asTenantId(typeof payload.tid === 'string' ? payload.tid : '');
    if (!tid) return err('malformed');
    const version = payload.ver === '1.0' || payload.ver === '2.0' ? payload.ver : undefined;
    if (!version) return err('unsupported_version');
    if (payload.iss !== this.authority.issuer(tid, version)) return err('wrong_issuer');
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.some((a) => this.audiences.includes(a.toLowerCase())))
      return err('wrong_audience');
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
    if (!scopes.includes(TAB_SCOPE)) return err('missing_scope');
    const client = version === '2.0' ? payload.azp : payload.appid;
    if (typeof client !== 'string' || !this.clients.has(client.toLowerCase()))
      return err('unauthorized_client');
    return ok({ tid, version });
  }

  private keySet(tid: TenantId): JWTVerifyGetKey {
    const cached = this.keySets.get(tid);
    if (cached) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.keySets.delete(tid);
      this.keySets.set(tid, cached);
      return cached;
    }
    const keySet =
      this.options.keySetFor?.(tid) ??
      createRemoteJWKSet(new URL(this.authority.jwksUri(tid)), {
        ...(this.agent ? { agent: this.agent } : {}),
        timeoutDuration: 5_000,
      });
    this.keySets.set(tid, keySet);
    while (this.keySets.size > this.maxCachedTenants) {
      const oldest = this.keySets.keys().next().value;
      if (oldest === undefined) break;
      this.keySets.delete(oldest);
    }
    return keySet;
  }
}

function verificationFailure(error: unknown): TokenFailure {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return 'not_yet_valid';
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    return 'malformed';
  }
  if (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  )
    return 'bad_signature';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return 'keys_unavailable';
  // jose reports a key set answered with something other than 200 as a generic JOSEError.
  if (error instanceof joseErrors.JOSEError && error.code !== joseErrors.JOSEError.code)
    return 'malformed';
  // The rest is the key set's HTTP fetch failing (network, TLS, non-200).
  return 'keys_unavailable';
}
