import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ServerError } from '@azure/msal-node';
import { MsalTokenProvider, tokenFailure } from '../../../src/adapters/graph/msal-token-provider';

const THUMBPRINT = '3F2504E04F8911D39A0C0305E82C33013F2504E0';
const context = {
  tenantId: '4a1c2b3d-0000-4000-8000-00000000c0de',
  clientId: '11111111-2222-4333-8444-555555555555',
  authorityBase: 'https://login.microsoftonline.com',
  certificateThumbprint: THUMBPRINT,
};

/** MSAL's own shape for an Entra error answer (ResponseHandler.validateTokenResponse). */
function entraError(aadsts: number, description: string) {
  return new ServerError(
    'invalid_client',
    `Error(s): ${aadsts} - Timestamp: 2026-03-02 10:00:00Z - Description: AADSTS${aadsts}: ${description}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-03-02 10:00:00Z - Correlation ID: c - Trace ID: t`,
    undefined,
    String(aadsts),
    401,
  );
}

describe('Graph token failures with a certificate credential', () => {
  it('tells the MSP to upload a certificate Entra does not know', () => {
    const failure = tokenFailure(
      entraError(
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${THUMBPRINT}', Please visit the Azure Portal.]`,
      ),
      context,
    );
    assert.equal(failure.reason, 'forbidden');
    assert.equal(failure.code, 'AADSTS700027');
    assert.equal(failure.httpStatus, 401);
    assert.equal(failure.retryable, false);
    assert.match(failure.message, /The key was not found/);
    assert.match(
      failure.message,
      new RegExp(`certificate with thumbprint ${THUMBPRINT} is not registered on the app`),
    );
    assert.match(failure.message, /Upload the certificate \(its public \.cer\)/);
    assert.match(failure.message, /CABINET_GRAPH_CERTIFICATE_THUMBPRINT/);
  });

  it('tells the MSP to renew an expired certificate', () => {
    const failure = tokenFailure(
      entraError(
        700027,
        `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${THUMBPRINT}', Found key 'Start=01/01/2025 00:00:00, End=01/01/2026 00:00:00']`,
      ),
      context,
    );
    assert.match(failure.message, /has expired\. Renew it: create a new certificate, upload it/);
  });

  it('tells the MSP the private key is not the certificate’s when the signature does not verify', () => {
    const failure = tokenFailure(
      entraError(
        700027,
        `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${THUMBPRINT}']`,
      ),
      { ...context, certificateThumbprint: undefined },
    );
    assert.match(
      failure.message,
      /private key Cabinet signs with is not the key of the certificate\./,
    );
  });

  it("blames this machine's clock when Entra finds the assertion outside its time", () => {
    const failure = tokenFailure(
      entraError(700024, 'Client assertion is not within its valid time range.'),
      context,
    );
    assert.equal(failure.code, 'AADSTS700024');
    assert.equal(failure.retryable, false);
    assert.match(failure.message, /clock of the machine Cabinet runs on/);
  });

  it('still tells the MSP to renew a refused secret', () => {
    const failure = tokenFailure(entraError(7000215, 'Invalid client secret provided.'), context);
    assert.match(failure.message, /create a new secret or certificate/);
  });

  it('accepts a thumbprint with separators and a PKCS#1 or PKCS#8 RSA key, and refuses a key it cannot sign with', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const provider = (
      privateKeyPem: string,
      thumbprint = THUMBPRINT.replace(/(..)(?!$)/g, '$1:'),
    ) =>
      new MsalTokenProvider({
        clientId: context.clientId,
        credential: { kind: 'certificate', thumbprint, privateKeyPem },
        authorityBase: context.authorityBase,
      });
    for (const type of ['pkcs1', 'pkcs8'] as const)
      assert.ok(provider(privateKey.export({ type, format: 'pem' }).toString()));
    assert.throws(() => provider('not a key'), /private key cannot be read/);
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
      .toString();
    assert.throws(() => provider(encrypted), /give the unencrypted PEM key/);
  });
});
