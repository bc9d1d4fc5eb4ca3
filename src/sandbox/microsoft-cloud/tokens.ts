import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { exportJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import {
  certificateDerBase64,
  createUnpublishedSigningKey,
  thumbprint,
  type CloudKeyMaterial,
} from './certificates';
import type { IssueUserTokenOptions, TokenVersion } from './types';

/** Graph's resource: what `aud` says in app tokens for Microsoft Graph. */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** The Teams clients that request SSO tokens for tabs (desktop/mobile and web). */
export const TEAMS_CLIENT_IDS = {
  desktopAndMobile: '1fec8e78-bce4-4aaf-ab1b-5451cc387264',
  web: '5e3ce6c0-2b1f-4285-8d4b-75ee78787346',
} as const;

/**
 * Issuers, as Entra writes them. App tokens for Graph are v1 (`https://sts.windows.net/{tid}/`) like
 * the real ones; v2 user tokens name the sandbox authority (`{url}/{tid}/v2.0`, what its OpenID
 * configuration calls `issuer`); v1 user tokens use the sts form like Entra's.
 */
export function issuerFor(cloudUrl: string, tenantId: string, version: TokenVersion): string {
  return version === '2.0'
    ? `${cloudUrl}/${tenantId}/v2.0`
    : `https://sts.windows.net/${tenantId}/`;
}

export function jwksUrlFor(cloudUrl: string, tenantId: string): string {
  return `${cloudUrl}/${tenantId}/discovery/v2.0/keys`;
}

export interface AppTokenClaims {
  readonly tenantId: string;
  readonly appId: string;
  readonly appDisplayName: string;
  readonly servicePrincipalId: string;
  readonly roles: readonly string[];
}

export interface VerifiedAppToken {
  readonly tenantId: string;
  readonly appId: string;
  readonly roles: readonly string[];
}

/** Why a bearer token was refused, in Graph's words. */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}

/** Signs and checks every token of the sandbox cloud with one published key (kid = x5t). */
export class TokenService {
  private readonly signingKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;
  private readonly jwk: Promise<JWK>;
  private unpublishedKey: KeyObject | undefined;

  constructor(
    keys: Pick<CloudKeyMaterial, 'signingKeyPem' | 'signingCertificatePem'>,
    private readonly cloudUrl: string,
    private readonly now: () => Date,
  ) {
    this.signingKey = createPrivateKey(keys.signingKeyPem);
    this.publicKey = createPublicKey(this.signingKey);
    this.kid = thumbprint(keys.signingCertificatePem);
    const x5c = certificateDerBase64(keys.signingCertificatePem);
    this.jwk = exportJWK(this.publicKey).then((jwk) => ({
      kty: 'RSA',
      use: 'sig',
      kid: this.kid,
      x5t: this.kid,
      n: jwk.n,
      e: jwk.e,
      x5c: [x5c],
    }));
  }

  async jwks(tenantId: string): Promise<{ keys: (JWK & { issuer: string })[] }> {
    return { keys: [{ ...(await this.jwk), issuer: issuerFor(this.cloudUrl, tenantId, '2.0') }] };
  }

  /** A client-credentials token for Graph, shaped like Entra's v1 app tokens. */
  async mintAppToken(claims: AppTokenClaims, lifetimeSeconds: number): Promise<string> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const issuer = issuerFor(this.cloudUrl, claims.tenantId, '1.0');
    const payload: JWTPayload = {
      aud: GRAPH_AUDIENCE,
      iss: issuer,
      iat,
      nbf: iat,
      exp: iat + lifetimeSeconds,
      aio: opaque(`${claims.tenantId}:${iat}`),
      app_displayname: claims.appDisplayName,
      appid: claims.appId,
      appidacr: '1',
      azp: claims.appId,
      idp: issuer,
      idtyp: 'app',
      oid: claims.servicePrincipalId,
      rh: opaque(claims.servicePrincipalId),
      sub: claims.servicePrincipalId,
      tenant_region_scope: 'EU',
      tid: claims.tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
      ...(claims.roles.length > 0 ? { roles: [...claims.roles] } : {}),
    };
    return this.sign(payload, this.signingKey);
  }

  async issueUserToken(options: IssueUserTokenOptions): Promise<string> {
    const version = options.version ?? '2.0';
    const iat = Math.floor((options.issuedAt ?? this.now()).getTime() / 1000);
    const lifetime = options.lifetimeSeconds ?? 3600;
    const issuer = issuerFor(this.cloudUrl, options.issuerTenantId ?? options.tid, version);
    const isIdToken = options.tokenUse === 'id';
    const common: JWTPayload = {
      iss: issuer,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      aio: opaque(`${options.oid}:${iat}`),
      name: options.name,
      oid: options.oid,
      rh: opaque(options.oid),
      sub: opaque(`${options.oid}:${options.clientAppId}`),
      tid: options.tid,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: version,
    };
    const userName =
      version === '2.0'
        ? { preferred_username: options.preferredUsername }
        : { upn: options.preferredUsername, unique_name: options.preferredUsername };
    const payload: JWTPayload = isIdToken
      ? { ...common, ...userName, aud: options.clientAppId }
      : {
          ...common,
          ...userName,
          aud: options.audience,
          scp: options.scopes.join(' '),
          ...(version === '2.0'
            ? { azp: options.clientAppId, azpacr: '0' }
            : { appid: options.clientAppId, appidacr: '0', idp: issuer }),
        };
    const key = options.signWithUnknownKey ? this.unknownKey() : this.signingKey;
    return this.sign(payload, key);
  }

  /** Checks a Graph bearer token as Graph would: our signature, Graph audience, sts issuer, lifetime. */
  async verifyAppToken(token: string): Promise<VerifiedAppToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['RS256'],
        currentDate: this.now(),
      }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED')
        throw new TokenRejected('Lifetime validation failed, the token is expired.');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
        throw new TokenRejected('Lifetime validation failed, the token is not yet valid.');
      throw new TokenRejected('Access token validation failure.');
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.some((aud) => aud === GRAPH_AUDIENCE || aud === GRAPH_APP_ID))
      throw new TokenRejected('Access token validation failure. Invalid audience.');
    const tenantId = typeof payload['tid'] === 'string' ? payload['tid'] : '';
    if (payload.iss !== issuerFor(this.cloudUrl, tenantId, '1.0'))
      throw new TokenRejected('Access token validation failure. Invalid issuer.');
    const appId = typeof payload['appid'] === 'string' ? payload['appid'] : '';
    const roles = Array.isArray(payload['roles'])
      ? payload['roles'].filter((role): role is string => typeof role === 'string')
      : [];
    return { tenantId, appId, roles };
  }

  private unknownKey(): KeyObject {
    this.unpublishedKey ??= createUnpublishedSigningKey();
    return this.unpublishedKey;
  }

  private async sign(payload: JWTPayload, key: KeyObject): Promise<string> {
    // The unpublished key keeps the kid format but not the value, like a rotated-out Entra key.
    const kid = key === this.signingKey ? this.kid : opaque(`unknown:${this.kid}`);
    return new SignJWT(payload)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid, x5t: kid })
      .sign(key);
  }
}

/** Entra's opaque claim values (aio, rh, pairwise sub) look like base64url noise; these are stable per input. */
function opaque(input: string): string {
  return createHash('sha256').update(input).digest('base64url').slice(0, 27);
}
