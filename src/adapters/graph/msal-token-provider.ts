import { createPrivateKey } from 'node:crypto';
import { AuthError, ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import { DirectoryError } from '../../application/ports/tenant-directory';
import type { DirectoryFailure } from '../../domain/execution/directory';
import type { TenantId } from '../../domain/shared/ids';

/** Graph's app-only scope: every application permission consented in the client tenant. */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** Microsoft Entra ID's public cloud sign-in service. */
export const PUBLIC_AUTHORITY_BASE = 'https://login.microsoftonline.com';

/**
 * How Cabinet's multi-tenant Graph app proves who it is: a client secret, or a certificate (its
 * hex thumbprint, SHA-1 with 40 digits or SHA-256 with 64, and the PEM private key).
 */
export type GraphAppCredential =
  | { readonly kind: 'secret'; readonly clientSecret: string }
  | { readonly kind: 'certificate'; readonly thumbprint: string; readonly privateKeyPem: string };

export interface MsalTokenProviderOptions {
  /** Application (client) id of Cabinet's Graph app registration in the MSP's tenant. */
  readonly clientId: string;
  readonly credential: GraphAppCredential;
  /** {@link PUBLIC_AUTHORITY_BASE} in production; the sandbox cloud's URL locally. */
  readonly authorityBase: string;
  /** A CA to trust for the authority's TLS certificate (the sandbox cloud's own CA). */
  readonly caCertificatePem?: string;
}

/** An app-only Graph access token for one client tenant. */
export interface GraphTokenSource {
  /** Throws {@link DirectoryError} saying what the MSP must fix when Entra refuses. */
  accessToken(tenantId: TenantId): Promise<string>;
}

/**
 * Client-credential tokens for every client tenant from **one** long-lived MSAL application.
 * @remarks The authority is passed per request (`<base>/<tenantId>`), so MSAL caches one token per
 * tenant and refreshes it before it expires; `common`/`organizations` cannot be used for client
 * credentials. Concurrent requests for a tenant share one token call.
 */
export class MsalTokenProvider implements GraphTokenSource {
  readonly #app: ConfidentialClientApplication;
  readonly #options: MsalTokenProviderOptions;
  readonly #authorityBase: string;
  readonly #pending = new Map<TenantId, Promise<string>>();

  constructor(options: MsalTokenProviderOptions) {
    this.#options = options;
    this.#authorityBase = options.authorityBase.replace(/\/+$/, '');
    const host = new URL(this.#authorityBase).host;
    const isPublicCloud = this.#authorityBase === PUBLIC_AUTHORITY_BASE;
    this.#app = new ConfidentialClientApplication({
      auth: {
        clientId: options.clientId,
        authority: `${this.#authorityBase}/organizations`,
        ...credentialOptions(options.credential),
        // Outside the public cloud MSAL must not look the authority up at login.microsoftonline.com.
        ...(isPublicCloud ? {} : { knownAuthorities: [host] }),
      },
      ...(options.caCertificatePem
        ? { system: { customAgentOptions: { ca: options.caCertificatePem } } }
        : {}),
    });
  }

  accessToken(tenantId: TenantId): Promise<string> {
    const pending = this.#pending.get(tenantId);
    if (pending) return pending;
    const request = this.#acquire(tenantId).finally(() => this.#pending.delete(tenantId));
    this.#pending.set(tenantId, request);
    return request;
  }

  async #acquire(tenantId: TenantId): Promise<string> {
    try {
      const result = await this.#app.acquireTokenByClientCredential({
        authority: `${this.#authorityBase}/${tenantId}`,
        scopes: [GRAPH_SCOPE],
      });
      if (result?.accessToken) return result.accessToken;
      throw new DirectoryError({
        reason: 'unknown',
        code: 'EmptyTokenResponse',
        message: `Microsoft Entra ID returned no access token for tenant ${tenantId}.`,
        retryable: true,
      });
    } catch (error: unknown) {
      if (error instanceof DirectoryError) throw error;
      throw new DirectoryError(
        tokenFailure(error, {
          tenantId,
          clientId: this.#options.clientId,
          authorityBase: this.#authorityBase,
          ...(this.#options.credential.kind === 'certificate'
            ? { certificateThumbprint: hexThumbprint(this.#options.credential.thumbprint) }
            : {}),
        }),
        { cause: error },
      );
    }
  }
}

function credentialOptions(
  credential: GraphAppCredential,
):
  | { clientSecret: string }
  | { clientCertificate: { thumbprint?: string; thumbprintSha256?: string; privateKey: string } } {
  switch (credential.kind) {
    case 'secret':
      return { clientSecret: credential.clientSecret };
    case 'certificate': {
      const thumbprint = hexThumbprint(credential.thumbprint);
      if (thumbprint.length !== 40 && thumbprint.length !== 64)
        throw new Error(
          'The Graph app certificate thumbprint must be 40 (SHA-1) or 64 (SHA-256) hex digits, as the app registration shows it.',
        );
      assertRsaPrivateKey(credential.privateKeyPem);
      return {
        clientCertificate: {
          ...(thumbprint.length === 64 ? { thumbprintSha256: thumbprint } : { thumbprint }),
          privateKey: credential.privateKeyPem,
        },
      };
    }
  }
}

/** Separators such as `AB:CD` or spaces, as certificate tools print thumbprints, are dropped. */
function hexThumbprint(thumbprint: string): string {
  return thumbprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/**
 * MSAL reads the key only when it signs the first assertion, and its failure then looks like a
 * passing one; a key that cannot sign is a settings error, so it is refused at start.
 */
function assertRsaPrivateKey(privateKeyPem: string): void {
  let keyType: string | undefined;
  try {
    keyType = createPrivateKey(privateKeyPem).asymmetricKeyType;
  } catch (error: unknown) {
    throw new Error(
      `The Graph app certificate's private key cannot be read (${error instanceof Error ? error.message : String(error)}): ` +
        'give the unencrypted PEM key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) with its line breaks.',
      { cause: error },
    );
  }
  if (keyType !== 'rsa')
    throw new Error(
      `The Graph app certificate's private key is ${keyType ?? 'not an asymmetric key'}; Entra certificate credentials are signed with RSA: use the RSA key of the certificate registered on the app.`,
    );
}

/** Where a token was requested; used to tell the MSP exactly what to fix. */
export interface TokenContext {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityBase: string;
  /** Hex, when Cabinet signs in with a certificate. */
  readonly certificateThumbprint?: string;
}

/**
 * Turns an MSAL failure into a {@link DirectoryFailure} whose message says what the MSP must do.
 * @remarks Entra's AADSTS number decides: 700016 (the app has no service principal in the client
 * tenant, i.e. no admin consent), 7000215/7000222 (the secret is wrong or expired), 700027 (the
 * certificate is not registered, expired, or not the private key's), 700024 (the assertion MSAL
 * signed is outside its time window: this machine's clock), 90002 (no such tenant). MSAL reports
 * a tenant it cannot discover as `openid_config_error` before any token call.
 */
export function tokenFailure(error: unknown, context: TokenContext): DirectoryFailure {
  const { tenantId, clientId, authorityBase } = context;
  if (!(error instanceof AuthError))
    return {
      reason: 'unknown',
      code: 'TokenError',
      message: `Cabinet could not get a Graph token for tenant ${tenantId}: ${error instanceof Error ? error.message : String(error)}`,
      retryable: true,
    };
  const aadsts = aadstsNumber(error);
  const status = error instanceof ServerError ? error.status : undefined;
  const code = aadsts ? `AADSTS${aadsts}` : error.errorCode;
  const withStatus = status !== undefined ? { httpStatus: status } : {};
  switch (aadsts ?? '') {
    case '700016':
      return {
        reason: 'forbidden',
        code,
        ...withStatus,
        message:
          `Cabinet's Graph app (${clientId}) is not consented in tenant ${tenantId}: an admin of that client must grant admin consent at ` +
          `${authorityBase}/${tenantId}/adminconsent?client_id=${clientId} (or the MSP grants it through Partner Center application consent).`,
        retryable: false,
      };
    case '700027':
      return {
        reason: 'forbidden',
        code,
        ...withStatus,
        message: certificateRefused(error.errorMessage, context),
        retryable: false,
      };
    case '700024':
      return {
        reason: 'forbidden',
        code,
        ...withStatus,
        message:
          `Microsoft Entra ID refused the certificate assertion Cabinet signed for tenant ${tenantId} as outside its valid time (${code}): ` +
          `the clock of the machine Cabinet runs on is more than five minutes off; set it right (synchronise it with NTP).`,
        retryable: false,
      };
    case '7000215':
    case '7000222':
      return {
        reason: 'forbidden',
        code,
        ...withStatus,
        message:
          `Microsoft Entra ID refused the credential of Cabinet's Graph app (${clientId}) (${code}: the client secret or certificate is wrong or expired): ` +
          `create a new secret or certificate for the app registration in the MSP's tenant and update Cabinet's Graph settings.`,
        retryable: false,
      };
    case '90002':
      return unknownTenant(code, tenantId, withStatus);
    default:
      break;
  }
  if (error.errorCode === 'openid_config_error' || error.errorCode === 'endpoints_resolution_error')
    return {
      ...unknownTenant(error.errorCode, tenantId, withStatus),
      message:
        `Cabinet could not discover the sign-in endpoints of tenant ${tenantId} at ${authorityBase}: ` +
        `check the client's tenant id in Cabinet (a tenant that does not exist answers AADSTS90002), or whether the sign-in service is reachable.`,
    };
  if (error.errorCode === 'network_error' || (status !== undefined && status >= 500))
    return {
      reason: 'unavailable',
      code,
      ...withStatus,
      message: `Microsoft Entra ID did not answer a token request for tenant ${tenantId}; it will be tried again.`,
      retryable: true,
    };
  if (status === 429)
    return {
      reason: 'throttled',
      code,
      ...withStatus,
      message: `Microsoft Entra ID is throttling token requests for tenant ${tenantId}.`,
      retryable: true,
    };
  return {
    reason: 'forbidden',
    code,
    ...withStatus,
    message: `Microsoft Entra ID refused a Graph token for tenant ${tenantId} (${code}): ${firstLine(error.errorMessage)}`,
    retryable: false,
  };
}

const CERTIFICATE_SETTINGS =
  "Cabinet's Graph certificate settings (CABINET_GRAPH_CERTIFICATE_THUMBPRINT and CABINET_GRAPH_CERTIFICATE_PRIVATE_KEY)";

/** Entra's `[Reason - …]` says which of the three certificate problems it is. */
function certificateRefused(errorMessage: string, context: TokenContext): string {
  const { clientId, certificateThumbprint } = context;
  const certificate = certificateThumbprint
    ? `the certificate with thumbprint ${certificateThumbprint}`
    : 'the certificate';
  const where = `under Certificates & secrets of Cabinet's Graph app registration (${clientId}) in the MSP's tenant`;
  const reason = /\[Reason - (.+?)\.,/.exec(errorMessage)?.[1] ?? '';
  const refused = `Microsoft Entra ID refused the certificate of Cabinet's Graph app (${clientId}) (AADSTS700027${reason ? `: ${reason}` : ''})`;
  if (/key was not found/i.test(reason))
    return (
      `${refused}: ${certificate} is not registered on the app. Upload the certificate (its public .cer) ${where}, ` +
      `or set ${CERTIFICATE_SETTINGS} to a certificate that is registered there.`
    );
  if (/expired/i.test(reason))
    return (
      `${refused}: ${certificate} has expired. Renew it: create a new certificate, upload it ${where}, ` +
      `and set ${CERTIFICATE_SETTINGS} to the new certificate's.`
    );
  return (
    `${refused}: the private key Cabinet signs with is not the key of ${certificate}. ` +
    `Set ${CERTIFICATE_SETTINGS} to the thumbprint and private key of one certificate, uploaded ${where}.`
  );
}

function unknownTenant(
  code: string,
  tenantId: string,
  withStatus: { httpStatus?: number },
): DirectoryFailure {
  return {
    reason: 'invalid',
    code,
    ...withStatus,
    message: `Tenant ${tenantId} does not exist in Microsoft Entra ID: check the client's tenant id in Cabinet.`,
    retryable: false,
  };
}

function aadstsNumber(error: AuthError): string | undefined {
  if (error instanceof ServerError && error.errorNo) return String(error.errorNo);
  return /AADSTS(\d+)/.exec(error.errorMessage)?.[1];
}

/** Entra's descriptions end with trace and correlation ids on further lines; the first line says what happened. */
function firstLine(text: string): string {
  const description = /Description: (.*?)(?: - Correlation ID|$)/s.exec(text)?.[1] ?? text;
  return description.split(/\r?\n/)[0] ?? '';
}
