import { ConfidentialClientApplication } from '@azure/msal-node';
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
} from '@microsoft/microsoft-graph-client';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import {
  startMicrosoftCloud,
  type RunningMicrosoftCloud,
  type StartMicrosoftCloudOptions,
} from '../../src/sandbox/microsoft-cloud';

/**
 * One certificate folder for every test run on this machine: the CA and keys are made once
 * (a second or so) and reused, which is also what the cloud does for `npm start`.
 */
export const SHARED_TEST_CERT_DIR = join(tmpdir(), 'cabinet-microsoft-cloud-test-certs');

export function startTestCloud(
  options: Partial<StartMicrosoftCloudOptions> = {},
): Promise<RunningMicrosoftCloud> {
  return startMicrosoftCloud({ certDir: SHARED_TEST_CERT_DIR, ...options });
}

/** MSAL Node pointed at the sandbox authority exactly as reference §2.3 Option B describes. */
export function confidentialClientFor(
  cloud: RunningMicrosoftCloud,
  credentials: { readonly clientId?: string; readonly clientSecret?: string } = {},
): ConfidentialClientApplication {
  const host = new URL(cloud.url).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: credentials.clientId ?? cloud.app.clientId,
      clientSecret: credentials.clientSecret ?? cloud.app.clientSecret,
      authority: `${cloud.url}/organizations`,
      knownAuthorities: [host],
    },
    system: { customAgentOptions: { ca: cloud.caCertificatePem } },
  });
}

export interface GraphClientOptions {
  readonly confidentialClient?: ConfidentialClientApplication;
  /** Default true. False leaves the SDK's RetryHandler out, so a 429 reaches the caller. */
  readonly retry?: boolean;
}

/** The real Graph SDK, unchanged, aimed at the sandbox: baseUrl, customHosts and a CA-trusting agent. */
export function graphClientFor(
  cloud: RunningMicrosoftCloud,
  tenantId: string,
  options: GraphClientOptions = {},
): Client {
  const cca = options.confidentialClient ?? confidentialClientFor(cloud);
  const authProvider = {
    getAccessToken: async () => {
      const result = await cca.acquireTokenByClientCredential({
        authority: cloud.authorityFor(tenantId),
        scopes: ['https://graph.microsoft.com/.default'],
      });
      if (!result) throw new Error('MSAL returned no token');
      return result.accessToken;
    },
  };
  const withoutRetry = () => {
    const chain = new AuthenticationHandler(authProvider);
    chain.setNext(new HTTPMessageHandler());
    return chain;
  };
  return Client.initWithMiddleware({
    baseUrl: cloud.url,
    defaultVersion: 'v1.0',
    customHosts: new Set(['localhost']),
    fetchOptions: { dispatcher: new Agent({ connect: { ca: cloud.caCertificatePem } }) },
    ...(options.retry === false ? { middleware: withoutRetry() } : { authProvider }),
  });
}
