import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';

/** The only `client_assertion_type` Entra accepts for certificate credentials (RFC 7523). */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far Entra lets the client's clock differ from its own when checking `exp` and `nbf`. */
export const ASSERTION_CLOCK_SKEW_SECONDS = 300;

const DOCUMENTATION = 'https://learn.microsoft.com/entra/identity-platform/certificate-credentials';

/** A certificate on the app registration's "Certificates & secrets" (Entra's `keyCredentials`). */
export interface RegisteredCertificate {
  /** Uppercase hex, as the portal shows it. */
  readonly thumbprintSha1: string;
  readonly thumbprintSha256: string;
  readonly publicKey: KeyObject;
  readonly startDateTime: Date;
  readonly endDateTime: Date;
}

export function registeredCertificate(certificatePem: string): RegisteredCertificate {
  const certificate = new X509Certificate(certificatePem);
  const digest = (algorithm: 'sha1' | 'sha256') =>
    createHash(algorithm).update(certificate.raw).digest('hex').toUpperCase();
  return {
    thumbprintSha1: digest('sha1'),
    thumbprintSha256: digest('sha256'),
    publicKey: certificate.publicKey,
    startDateTime: new Date(certificate.validFrom),
    endDateTime: new Date(certificate.validTo),
  };
}

/** Why Entra refused a client assertion, in its words: `invalid_client`, 401, an AADSTS number. */
export interface AssertionRefusal {
  readonly code: number;
  readonly description: string;
}

export type AssertionCheck =
  | { readonly ok: true; readonly jti: string; readonly expiresAt: number }
  | { readonly ok: false; readonly refusal: AssertionRefusal };

export interface ExpectedAssertion {
  /** The `client_id` of the token request: `iss` and `sub` must both be it. */
  readonly clientId: string;
  /** Token endpoint URLs of the addressed tenant; `aud` must be one of them. */
  readonly audiences: readonly string[];
}

/**
 * Checks `private_key_jwt` client assertions as Entra does for an app's certificate credentials:
 * the key named by `x5t` (SHA-1) or `x5t#S256` must be registered and current, the RS256/PS256
 * signature must verify with it, `iss` = `sub` = client id, `aud` = the tenant's token endpoint,
 * `exp`/`nbf` within {@link ASSERTION_CLOCK_SKEW_SECONDS}, and a `jti`.
 * @remarks A `jti` is spent only when it buys a token ({@link spend}). MSAL Node keeps its signed
 * assertion for ten minutes per token endpoint and sends it again when a token call is retried
 * (after a 429, a 5xx, a refusal), so spending it on a refused request would turn a passing failure
 * into a credential error.
 */
export class ClientAssertionVerifier {
  /** `clientId:jti` → until when a replay would still be within the assertion's lifetime (ms). */
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly certificates: readonly RegisteredCertificate[],
    private readonly now: () => Date,
  ) {}

  async check(assertion: string, expected: ExpectedAssertion): Promise<AssertionCheck> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return malformed('The client assertion is not a signed JWT.');
    }
    const sha1 = thumbprintHex(header['x5t']);
    const sha256 = thumbprintHex(header['x5t#S256']);
    const usedByClient = sha256 ?? sha1;
    const certificate = this.certificates.find(
      (candidate) =>
        (sha1 !== undefined && candidate.thumbprintSha1 === sha1) ||
        (sha256 !== undefined && candidate.thumbprintSha256 === sha256),
    );
    if (!certificate)
      return refuse(
        700027,
        `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., ` +
          `${usedByClient ? `Thumbprint of key used by client: '${usedByClient}', ` : ''}` +
          `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${expected.clientId}'.]`,
      );
    const now = this.now();
    const foundKey = `Found key 'Start=${entraDate(certificate.startDateTime)}, End=${entraDate(certificate.endDateTime)}'`;
    if (certificate.endDateTime < now || certificate.startDateTime > now)
      return refuse(
        700027,
        `AADSTS700027: Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${usedByClient}', ${foundKey}]`,
      );
    let payloadBytes: Uint8Array;
    try {
      ({ payload: payloadBytes } = await compactVerify(assertion, certificate.publicKey, {
        algorithms: ['RS256', 'PS256'],
      }));
    } catch {
      return refuse(
        700027,
        `AADSTS700027: Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${usedByClient}', ${foundKey}]`,
      );
    }
    const claims = parseClaims(payloadBytes);
    if (!claims) return malformed('The client assertion has no JSON claims.');
    const clientId = expected.clientId.toLowerCase();
    if (
      typeof claims['iss'] !== 'string' ||
      typeof claims['sub'] !== 'string' ||
      claims['iss'].toLowerCase() !== clientId ||
      claims['sub'].toLowerCase() !== clientId
    )
      return refuse(
        700021,
        `AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at ${DOCUMENTATION} .`,
      );
    const audiences = Array.isArray(claims['aud']) ? claims['aud'] : [claims['aud']];
    if (!audiences.some((aud) => typeof aud === 'string' && expected.audiences.includes(aud)))
      return refuse(
        700023,
        `AADSTS700023: Client assertion audience claim does not match Realm issuer. Review the documentation at ${DOCUMENTATION} .`,
      );
    const exp = claims['exp'];
    if (typeof exp !== 'number') return malformed("The client assertion has no 'exp' claim.");
    const notBefore = typeof claims['nbf'] === 'number' ? claims['nbf'] : undefined;
    const nowSeconds = now.getTime() / 1000;
    if (
      nowSeconds > exp + ASSERTION_CLOCK_SKEW_SECONDS ||
      (notBefore !== undefined && nowSeconds < notBefore - ASSERTION_CLOCK_SKEW_SECONDS)
    ) {
      const validFrom = notBefore ?? (typeof claims['iat'] === 'number' ? claims['iat'] : exp);
      return refuse(
        700024,
        `AADSTS700024: Client assertion is not within its valid time range. Current time: ${entraInstant(now)}, assertion valid from ${entraInstant(new Date(validFrom * 1000))}, expiry time of assertion ${entraInstant(new Date(exp * 1000))}. Review the documentation at ${DOCUMENTATION} .`,
      );
    }
    const jti = claims['jti'];
    if (typeof jti !== 'string' || jti === '')
      return malformed("The client assertion has no 'jti' claim.");
    return { ok: true, jti, expiresAt: (exp + ASSERTION_CLOCK_SKEW_SECONDS) * 1000 };
  }

  /**
   * Marks a checked assertion's `jti` as used to obtain a token; refuses it when it already was,
   * within the assertion's lifetime.
   */
  spend(
    clientId: string,
    assertion: { jti: string; expiresAt: number },
  ): AssertionRefusal | undefined {
    const nowMs = this.now().getTime();
    for (const [key, until] of this.spent) if (until < nowMs) this.spent.delete(key);
    const key = `${clientId.toLowerCase()}:${assertion.jti}`;
    if (this.spent.has(key))
      return {
        code: 50013,
        description: `AADSTS50013: Assertion is invalid. The client assertion with jti '${assertion.jti}' was already used to obtain a token; each token request needs a newly signed assertion.`,
      };
    this.spent.set(key, assertion.expiresAt);
    return undefined;
  }
}

function refuse(code: number, description: string): AssertionCheck {
  return { ok: false, refusal: { code, description } };
}

function malformed(detail: string): AssertionCheck {
  return refuse(50027, `AADSTS50027: JWT token is invalid or malformed. ${detail}`);
}

function parseClaims(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `x5t`/`x5t#S256` carry the thumbprint's bytes base64url-encoded; Entra names keys in hex. */
function thumbprintHex(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url').toString('hex').toUpperCase();
}

/** Entra's instants: ISO 8601 with seven fractional digits. */
function entraInstant(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** How Entra prints a key's validity in its refusals. */
function entraDate(at: Date): string {
  const [year, month, day] = at.toISOString().slice(0, 10).split('-');
  return `${month}/${day}/${year} ${at.toISOString().slice(11, 19)}`;
}
