import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { JWT_BEARER_ASSERTION_TYPE, type ClientAssertionVerifier } from './client-assertion';
import type { OperationKey, SandboxTenantRuntime } from './sandbox-tenant';
import { GRAPH_APP_ID, GRAPH_AUDIENCE, type TokenService } from './tokens';

export interface AuthorityResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export interface AuthorityDeps {
  readonly cloudUrl: string;
  readonly tokens: TokenService;
  /** By tenant id or verified domain name. */
  readonly findTenant: (idOrDomain: string) => SandboxTenantRuntime | undefined;
  readonly app: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly displayName: string;
  };
  /** Checks `client_assertion`s against the certificates registered on the app. */
  readonly assertions: ClientAssertionVerifier;
  readonly now: () => Date;
  readonly sleep: (milliseconds: number) => Promise<void>;
}

const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;
const ORGANIZATION_ALIASES = new Set(['common', 'organizations', 'consumers']);

/**
 * The Entra endpoints MSAL Node needs for client credentials against `https://localhost:<port>/{tenant}`:
 * instance discovery, OpenID configuration, JWKS and the v2 token endpoint, with AAD's error JSON.
 */
export class Authority {
  constructor(private readonly deps: AuthorityDeps) {}

  /** Answers `undefined` when the path is not an authority path. */
  async handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    rawBody: Buffer,
  ): Promise<AuthorityResponse | undefined> {
    const segments = path.split('/').slice(1);
    const [tenantSegment = '', ...rest] = segments;
    const tail = rest.join('/');
    const correlationId = firstHeader(headers, 'client-request-id') ?? randomUUID();
    if (method === 'GET' && tenantSegment === 'common' && tail === 'discovery/instance')
      return json(200, this.instanceDiscovery());
    if (
      method === 'GET' &&
      (tail === 'v2.0/.well-known/openid-configuration' ||
        tail === '.well-known/openid-configuration')
    )
      return this.openIdConfiguration(tenantSegment, tail.startsWith('v2.0'), correlationId);
    if (method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys'))
      return json(
        200,
        await this.deps.tokens.jwks(this.findTenantId(tenantSegment) ?? tenantSegment),
      );
    if (method === 'POST' && tail === 'oauth2/v2.0/token')
      return this.token(
        tenantSegment,
        new URLSearchParams(rawBody.toString('utf8')),
        correlationId,
      );
    return undefined;
  }

  private instanceDiscovery(): unknown {
    const host = new URL(this.deps.cloudUrl).host;
    return {
      tenant_discovery_endpoint: `${this.deps.cloudUrl}/{tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  private findTenantId(segment: string): string | undefined {
    return this.deps.findTenant(segment)?.tenantId;
  }

  private openIdConfiguration(
    tenantSegment: string,
    v2: boolean,
    correlationId: string,
  ): AuthorityResponse {
    const generic = ORGANIZATION_ALIASES.has(tenantSegment.toLowerCase());
    const tenantId = generic ? '{tenantid}' : this.findTenantId(tenantSegment);
    if (!tenantId)
      return this.aadError(
        400,
        'invalid_tenant',
        90002,
        tenantNotFound(tenantSegment),
        correlationId,
      );
    const base = `${this.deps.cloudUrl}/${generic ? tenantSegment : tenantId}`;
    const host = new URL(this.deps.cloudUrl).host;
    return json(200, {
      token_endpoint: `${base}/oauth2/${v2 ? 'v2.0/' : ''}token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `${base}/discovery/${v2 ? 'v2.0/' : ''}keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2
        ? `${this.deps.cloudUrl}/${tenantId}/v2.0`
        : `https://sts.windows.net/${tenantId}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.deps.cloudUrl}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/${v2 ? 'v2.0/' : ''}authorize`,
      device_authorization_endpoint: `${base}/oauth2/${v2 ? 'v2.0/' : ''}devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/${v2 ? 'v2.0/' : ''}logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: host,
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    });
  }

  private async token(
    tenantSegment: string,
    form: URLSearchParams,
    correlationId: string,
  ): Promise<AuthorityResponse> {
    const tenant = this.deps.findTenant(tenantSegment);
    if (!tenant)
      return this.aadError(
        400,
        'invalid_request',
        90002,
        tenantNotFound(tenantSegment),
        correlationId,
      );
    tenant.countTokenRequest();
    if (tenant.latency > 0) await this.deps.sleep(tenant.latency);
    const key: OperationKey = {
      surface: 'token',
      method: 'POST',
      path: '/oauth2/v2.0/token',
      route: 'POST /oauth2/v2.0/token',
    };
    const injected = tenant.takeInjected(key);
    if (injected?.kind === 'throttle') {
      const response = this.aadError(
        injected.status,
        'temporarily_unavailable',
        50196,
        'AADSTS50196: The server terminated an operation because it encountered a client request loop. Please contact your app vendor.',
        correlationId,
      );
      return injected.retryAfterFormat === 'none'
        ? response
        : {
            ...response,
            headers: {
              ...response.headers,
              'Retry-After':
                injected.retryAfterFormat === 'http-date'
                  ? new Date(
                      this.deps.now().getTime() + injected.retryAfterSeconds * 1000,
                    ).toUTCString()
                  : String(injected.retryAfterSeconds),
            },
          };
    }
    if (injected?.kind === 'fail')
      return this.aadError(injected.status, injected.code, 0, injected.message, correlationId);

    const missing = (parameter: string) =>
      this.aadError(
        400,
        'invalid_request',
        900144,
        `AADSTS900144: The request body must contain the following parameter: '${parameter}'.`,
        correlationId,
      );
    const grantType = form.get('grant_type');
    if (!grantType) return missing('grant_type');
    const clientId = form.get('client_id');
    if (!clientId) return missing('client_id');
    if (grantType !== 'client_credentials')
      return this.aadError(
        400,
        'unsupported_grant_type',
        70003,
        `AADSTS70003: The app requested an unsupported grant type '${grantType}'. The sandbox cloud only issues client-credentials tokens over HTTP; user tokens come from issueUserToken.`,
        correlationId,
      );
    const roles = tenant.directory.record.appRoles;
    if (clientId.toLowerCase() !== this.deps.app.clientId || roles === null)
      return this.aadError(
        400,
        'unauthorized_client',
        700016,
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        correlationId,
      );
    const credential = await this.checkCredential(form, tenant, correlationId);
    if (!credential.ok) return credential.response;
    const scopes = (form.get('scope') ?? '')
      .split(' ')
      .filter((scope) => scope && !['openid', 'profile', 'offline_access'].includes(scope));
    const graphScopes = [`${GRAPH_AUDIENCE}/.default`, `${GRAPH_APP_ID}/.default`];
    const scope = scopes[0];
    if (scopes.length !== 1 || !scope?.endsWith('/.default'))
      return this.aadError(
        400,
        'invalid_scope',
        1002012,
        `AADSTS1002012: The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        correlationId,
      );
    if (!graphScopes.includes(scope.toLowerCase()))
      return this.aadError(
        400,
        'invalid_resource',
        500011,
        `AADSTS500011: The resource principal named ${scope.replace(/\/\.default$/, '')} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        correlationId,
      );
    // Spent only now, so a request refused for any other reason leaves the assertion usable.
    const replay =
      credential.assertion && this.deps.assertions.spend(clientId, credential.assertion);
    if (replay)
      return this.aadError(401, 'invalid_client', replay.code, replay.description, correlationId);
    const accessToken = await this.deps.tokens.mintAppToken(
      {
        tenantId: tenant.tenantId,
        appId: this.deps.app.clientId,
        appDisplayName: this.deps.app.displayName,
        servicePrincipalId: tenant.directory.record.appServicePrincipalId,
        roles,
      },
      ACCESS_TOKEN_LIFETIME_SECONDS,
    );
    return {
      status: 200,
      headers: tokenHeaders(correlationId),
      body: {
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
        ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
        access_token: accessToken,
      },
    };
  }

  /**
   * The app's proof of identity: its client secret, or a `client_assertion` signed with the private
   * key of a certificate registered on it (Entra's certificate credential).
   */
  private async checkCredential(
    form: URLSearchParams,
    tenant: SandboxTenantRuntime,
    correlationId: string,
  ): Promise<
    | { readonly ok: true; readonly assertion?: { jti: string; expiresAt: number } }
    | { readonly ok: false; readonly response: AuthorityResponse }
  > {
    const refuse = (status: number, error: string, code: number, description: string) => ({
      ok: false as const,
      response: this.aadError(status, error, code, description, correlationId),
    });
    const assertion = form.get('client_assertion');
    const secret = form.get('client_secret');
    if (assertion) {
      if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE)
        return refuse(
          400,
          'invalid_request',
          900144,
          `AADSTS900144: The request body must contain the following parameter: 'client_assertion_type' with the value '${JWT_BEARER_ASSERTION_TYPE}'.`,
        );
      const checked = await this.deps.assertions.check(assertion, {
        clientId: this.deps.app.clientId,
        audiences: tokenEndpoints(this.deps.cloudUrl, tenant),
      });
      if (!checked.ok)
        return refuse(401, 'invalid_client', checked.refusal.code, checked.refusal.description);
      return { ok: true, assertion: { jti: checked.jti, expiresAt: checked.expiresAt } };
    }
    if (!secret)
      return refuse(
        401,
        'invalid_client',
        7000218,
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    if (secret !== this.deps.app.clientSecret)
      return refuse(
        401,
        'invalid_client',
        7000215,
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.deps.app.clientId}'.`,
      );
    return { ok: true };
  }

  /** AAD's error JSON: the description carries trace and correlation ids and a timestamp, as Entra's does. */
  private aadError(
    status: number,
    error: string,
    code: number,
    description: string,
    correlationId: string,
  ): AuthorityResponse {
    const traceId = randomUUID();
    const timestamp = `${this.deps.now().toISOString().slice(0, 19).replace('T', ' ')}Z`;
    return {
      status,
      headers: tokenHeaders(correlationId),
      body: {
        error,
        error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: code === 0 ? [] : [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        ...(code === 0 ? {} : { error_uri: `${this.deps.cloudUrl}/error?code=${code}` }),
      },
    };
  }
}

/**
 * What a client assertion's `aud` may say for this tenant: its v2 or v1 token endpoint, by tenant
 * id or by a verified domain, as Entra accepts.
 */
function tokenEndpoints(cloudUrl: string, tenant: SandboxTenantRuntime): string[] {
  const names = [
    tenant.tenantId,
    ...tenant.directory.record.verifiedDomains.map((domain) => domain.name),
  ];
  return names.flatMap((name) => [
    `${cloudUrl}/${name}/oauth2/v2.0/token`,
    `${cloudUrl}/${name}/oauth2/token`,
  ]);
}

function tenantNotFound(tenant: string): string {
  return `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;
}

function json(status: number, body: unknown): AuthorityResponse {
  return { status, headers: tokenHeaders(randomUUID()), body };
}

function tokenHeaders(correlationId: string): Record<string, string> {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store, no-cache',
    Pragma: 'no-cache',
    'x-ms-request-id': randomUUID(),
    'client-request-id': correlationId,
  };
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
