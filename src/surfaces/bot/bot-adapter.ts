import { TeamsAdapter } from '@microsoft/teams-ai';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import { CertificateServiceClientCredentialsFactory } from 'botframework-connector';

/** Bot Framework credentials; absent means the anonymous local connector of the sandbox. */
export interface BotCredentials {
  readonly appId: string;
  readonly tenantId: string;
  readonly password?: string;
  readonly certificateThumbprint?: string;
  readonly certificatePrivateKey?: string;
}

/**
 * The Bot Framework adapter. With credentials it validates every inbound JWT (issuer, audience =
 * our app id, signing keys, serviceUrl claim) and signs outbound calls; without, it is anonymous.
 * @remarks Only the sandbox may run anonymous: config.ts refuses production without credentials.
 */
export function createBotAdapter(credentials: BotCredentials | undefined): TeamsAdapter {
  if (!credentials) return new TeamsAdapter({});
  const auth = {
    MicrosoftAppId: credentials.appId,
    MicrosoftAppType: 'SingleTenant',
    MicrosoftAppTenantId: credentials.tenantId,
    ...(credentials.password ? { MicrosoftAppPassword: credentials.password } : {}),
  };
  const factory =
    credentials.certificateThumbprint && credentials.certificatePrivateKey
      ? new CertificateServiceClientCredentialsFactory(
          credentials.appId,
          credentials.certificateThumbprint,
          credentials.certificatePrivateKey,
          credentials.tenantId,
        )
      : new ConfigurationServiceClientCredentialFactory(auth);
  return new TeamsAdapter(auth, factory);
}
