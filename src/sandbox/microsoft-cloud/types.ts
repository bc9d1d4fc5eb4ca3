/**
 * The public surface of the sandbox Microsoft cloud: how to start it, the knobs tests and the bench
 * turn, and the read-only views they assert on.
 */

export interface StartMicrosoftCloudOptions {
  /** 0 or omitted: a free loopback port. */
  readonly port?: number;
  /**
   * Where the local CA, the server certificate, the token-signing key and the app's client
   * certificate live (created on first start, reused after).
   */
  readonly certDir: string;
  /** Directory state is loaded from here on start and written after every change; omit for memory only. */
  readonly stateFile?: string;
  readonly now?: () => Date;
  /**
   * Receives what the cloud does, and every request it failed to serve (`request failed: <route> …`
   * with the exception's stack; a sandbox bug, answered 500). Omitted: silent, except those
   * failures, which go to stderr.
   */
  readonly log?: (line: string) => void;
}

export interface RunningMicrosoftCloud {
  /** `https://localhost:<port>`, no trailing slash: the Graph SDK's `baseUrl` and the authority host. */
  readonly url: string;
  readonly port: number;
  readonly caCertificatePem: string;
  readonly caCertificatePath: string;
  /** The one registered multi-tenant app (Cabinet), consented in the client tenants. */
  readonly app: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** The certificate credential registered on the app, with the private key Cabinet signs with. */
    readonly certificate: SandboxAppCertificate;
  };
  /** `${url}/${tenantId}`: the MSAL authority for client credentials against that tenant. */
  authorityFor(tenantId: string): string;
  /** The `iss` of user tokens this cloud issues: `${url}/${tid}/v2.0`, or `https://sts.windows.net/${tid}/` for v1. */
  sandboxIssuer(tenantId: string, version?: TokenVersion): string;
  /** `${url}/${tenantId}/discovery/v2.0/keys`; every tenant publishes the same keys, as Entra does. */
  jwksUrl(tenantId: string): string;
  /** Knobs, counters and inspection for one tenant; throws for a tenant the sandbox does not know. */
  tenant(tenantId: string): SandboxTenant;
  /** A signed user token as the sandbox authority would issue it (tab SSO); see {@link IssueUserTokenOptions}. */
  issueUserToken(options: IssueUserTokenOptions): Promise<string>;
  /** Writes the state file (when configured) and closes every connection. */
  stop(): Promise<void>;
}

/**
 * A certificate on the app registration's "Certificates & secrets". A client assertion names it by
 * `x5t` (SHA-1, what MSAL Node sends for `clientCertificate.thumbprint`) or `x5t#S256` (SHA-256, for
 * `thumbprintSha256`).
 */
export interface SandboxAppCertificate {
  /** SHA-1 of the certificate's DER, uppercase hex, as the portal shows it. */
  readonly thumbprint: string;
  /** SHA-256 of the certificate's DER, uppercase hex. */
  readonly thumbprintSha256: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

export type TokenVersion = '1.0' | '2.0';

/**
 * A delegated (user) token, e.g. what Teams SSO hands a tab. Every field that a validator checks can
 * be bent so a test can build the whole rejection matrix.
 */
export interface IssueUserTokenOptions {
  readonly tid: string;
  readonly oid: string;
  readonly name: string;
  readonly preferredUsername: string;
  /** `aud` of an access token (the tab's application id URI or client id). Ignored for ID tokens. */
  readonly audience: string;
  /** Delegated scopes, e.g. `['access_as_user']`; become the space-separated `scp`. */
  readonly scopes: readonly string[];
  /** The app that asked for the token (`azp` in v2, `appid` in v1), e.g. a Teams client id. */
  readonly clientAppId: string;
  /** Default 3600. A negative lifetime, or `issuedAt` in the past, gives an expired token. */
  readonly lifetimeSeconds?: number;
  /** Default: the cloud's clock. */
  readonly issuedAt?: Date;
  /** Default '2.0'. */
  readonly version?: TokenVersion;
  /** Signs with a key that is not in the JWKS (same `kid` format, different key). */
  readonly signWithUnknownKey?: boolean;
  /** Default 'access'. An ID token has no `scp` and `aud` = `clientAppId`. */
  readonly tokenUse?: 'access' | 'id';
  /** The tenant in `iss`; default `tid` (set it to another tenant to build an "iss tenant ≠ tid" token). */
  readonly issuerTenantId?: string;
}

/** Which requests a knob applies to. All given fields must match. */
export interface RequestMatch {
  /** HTTP method, case-insensitive. */
  readonly method?: string;
  /** Tested against the Graph path without `/v1.0` or query (`/users/abc/assignLicense`). */
  readonly path?: RegExp;
  /** A route template as counters name it: `POST /users`, `DELETE /groups/{id}/members/{id}/$ref`. */
  readonly route?: string;
}

/**
 * @remarks A knob applies to Graph operations: top-level requests and each `$batch` sub-request. The
 * `$batch` envelope itself and the token endpoint are only matched when named explicitly
 * (`route: 'POST /$batch'`, `route: 'POST /oauth2/v2.0/token'`).
 */
export interface ThrottleOptions {
  /** How many matching requests are refused before normal service resumes. */
  readonly count: number;
  /** Default 429. */
  readonly status?: 429 | 503 | 504;
  /** Default 1. */
  readonly retryAfterSeconds?: number;
  /** Default 'seconds'; 'http-date' sends `now + retryAfterSeconds` as an HTTP date; 'none' omits the header. */
  readonly retryAfterFormat?: 'seconds' | 'http-date' | 'none';
  readonly match?: RequestMatch;
}

export interface FailOptions {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Default: every matching request from now on, until `reset()`. */
  readonly count?: number;
  readonly match?: RequestMatch;
}

export interface LoseResponseOptions {
  /**
   * The request is carried out, then the answer is lost: 'gateway-timeout' answers 504 instead,
   * 'drop-connection' destroys the socket (a batch: after every sub-request ran).
   */
  readonly mode: 'gateway-timeout' | 'drop-connection';
  /** Default 1. */
  readonly count?: number;
  readonly match?: RequestMatch;
}

/**
 * Parks matching requests so a test can act (e.g. kill the caller) at an exact point of a write.
 * @remarks A held request whose connection closes is let go at once: one held `before` is then never
 * applied (the caller is gone; nothing of it happened), one held `after` was applied already and its
 * answer is dropped. Holding the `$batch` envelope (`route: 'POST /$batch'`) holds the whole batch.
 */
export interface HoldOptions {
  /** 'before': the request waits before anything of it is applied. 'after': it is applied, then its answer waits. */
  readonly phase: 'before' | 'after';
  /** How many matching requests to hold; default 1. Later ones pass. */
  readonly count?: number;
  readonly match?: RequestMatch;
}

/** A request a hold caught. */
export interface HeldRequest {
  readonly method: string;
  /** The Graph path as sent, without `/v1.0` or query. */
  readonly path: string;
  readonly route: string | undefined;
  readonly viaBatch: boolean;
}

/** How a held request stopped waiting: `release()`, or its caller hung up first. */
export type HoldEnd = 'released' | 'caller-gone';

export interface SandboxHold {
  /** Resolves once `count` matching requests are being held, with them in arrival order. */
  readonly held: Promise<readonly HeldRequest[]>;
  /** Resolves once all `count` caught requests stopped waiting, with how each did, in that order. */
  readonly ended: Promise<readonly HoldEnd[]>;
  /** Lets every request it holds go on, and stops holding new ones. */
  release(): void;
}

export interface SandboxCounters {
  /** Graph HTTP requests (a `$batch` is one), whatever their outcome. Token requests are not included. */
  readonly roundTrips: number;
  readonly batchRequests: number;
  /** Sub-requests inside `$batch` requests. */
  readonly batchedRequests: number;
  readonly tokenRequests: number;
  /** Requests answered with an injected 429/503/504. */
  readonly throttled: number;
  /** Applied (state-changing, successful) mutations by route template, e.g. `{ 'POST /users': 1 }`. */
  readonly mutations: Readonly<Record<string, number>>;
}

export interface AppliedMutation {
  /** 1, 2, 3… in the order they were applied in this tenant. */
  readonly sequence: number;
  readonly route: string;
  readonly method: string;
  /** The Graph path as sent, without `/v1.0` or query. */
  readonly path: string;
  readonly at: string;
  readonly viaBatch: boolean;
  readonly status: number;
  /** A lose-response knob hid the outcome from the caller. */
  readonly responseLost: boolean;
}

export interface InspectedLicence {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly disabledPlans: readonly string[];
  /** Set when the licence comes from group-based licensing. */
  readonly assignedByGroup?: string;
}

export interface InspectedAutoReply {
  readonly status: 'disabled' | 'alwaysEnabled' | 'scheduled';
  readonly externalAudience: 'none' | 'contactsOnly' | 'all';
  readonly internalReplyMessage: string;
  readonly externalReplyMessage: string;
  readonly scheduledStartDateTime?: string;
  readonly scheduledEndDateTime?: string;
}

export interface InspectedUser {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly accountEnabled: boolean;
  readonly usageLocation?: string;
  readonly jobTitle?: string;
  readonly department?: string;
  /** Direct and group-inherited. */
  readonly licences: readonly InspectedLicence[];
  /** Ids of groups the user is a direct member of. */
  readonly memberOf: readonly string[];
  readonly ownerOf: readonly string[];
  readonly managerId?: string;
  readonly hasMailbox: boolean;
  readonly autoReply: InspectedAutoReply;
  readonly sessionsRevokedAt?: string;
  readonly deletedDateTime?: string;
  readonly createdDateTime: string;
}

export interface InspectedGroup {
  readonly id: string;
  readonly displayName: string;
  readonly groupTypes: readonly string[];
  readonly mailEnabled: boolean;
  readonly securityEnabled: boolean;
  /** Active members' ids (deleted users drop out, as in Entra). */
  readonly members: readonly string[];
  readonly owners: readonly string[];
  /** Group-based licensing: skus every member inherits. */
  readonly licenceSkuIds: readonly string[];
}

export interface InspectedSku {
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly enabledUnits: number;
  readonly consumedUnits: number;
  readonly freeUnits: number;
  readonly capabilityStatus: string;
}

/** One tenant of the sandbox cloud, for tests and the bench (in-process only; never over HTTP). */
export interface SandboxTenant {
  readonly tenantId: string;
  readonly displayName: string;
  /** Added to every HTTP round trip for this tenant (a `$batch` costs it once). */
  setLatency(milliseconds: number): void;
  throttle(options: ThrottleOptions): void;
  fail(options: FailOptions): void;
  loseResponse(options: LoseResponseOptions): void;
  /** Holds matching requests before or after they are applied until released; see {@link HoldOptions}. */
  hold(options: HoldOptions): SandboxHold;
  /** Clears latency, throttles, failures, lost responses and holds, letting held requests go (not counters, not directory state). */
  reset(): void;
  /** The app's consented Graph application permissions here; `undefined` = not consented (AADSTS700016). */
  setAppRoles(roles: readonly string[] | undefined): void;
  /** Sets a subscription's purchased seats (`prepaidUnits.enabled`). */
  setPrepaidUnits(skuPartNumber: string, enabled: number): void;
  counters(): SandboxCounters;
  mutationLog(): readonly AppliedMutation[];
  resetCounters(): void;
  /** An active user by UPN (case-insensitive) or id. */
  user(userPrincipalNameOrId: string): InspectedUser | undefined;
  users(): InspectedUser[];
  /** By display name (case-insensitive) or id. */
  group(displayNameOrId: string): InspectedGroup | undefined;
  groups(): InspectedGroup[];
  skus(): InspectedSku[];
  /** Soft-deleted users (restorable for 30 days), with their original UPN. */
  deletedUsers(): InspectedUser[];
}
