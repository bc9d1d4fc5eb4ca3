/**
 * The sandbox Microsoft cloud: Entra (client credentials, OpenID discovery, JWKS, user tokens for
 * tab SSO) and Microsoft Graph v1.0 over HTTPS on loopback, for the real MSAL Node and Graph SDK.
 */
export { startMicrosoftCloud } from './cloud';
export {
  SANDBOX_APP,
  SANDBOX_APP_ROLES,
  SANDBOX_DIRECTORY,
  SANDBOX_SKUS,
  UNCONSENTED_TENANT,
  type SeededGroup,
  type SeededUser,
} from './seed';
export { GRAPH_AUDIENCE, issuerFor, jwksUrlFor, TEAMS_CLIENT_IDS } from './tokens';
export type * from './types';
