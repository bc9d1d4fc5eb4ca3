import assert from 'node:assert/strict';
import { AuthError, ServerError } from '@azure/msal-node';
import { MsalTokenProvider, tokenFailure } from '../../../src/adapters/graph/msal-token-provider';

const context = {
  tenantId: '4a1c2b3d-0000-4000-8000-00000000c0de',
  clientId: '11111111-2222-4333-8444-555555555555',
  authorityBase: 'https://login.microsoftonline.com',
};

/** MSAL's own shape for an Entra error answer (ResponseHandler.validateTokenResponse). */
function entraError(error: string, aadsts: number, description: string, status: number) {
  return new ServerError(
    error,
    `Error(s): ${aadsts} - Timestamp: 2026-03-02 10:00:00Z - Description: AADSTS${aadsts}: ${description}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-03-02 10:00:00Z - Correlation ID: c - Trace ID: t`,
    undefined,
    String(aadsts),
    status,
  );
}

describe('Graph token failures', () => {
  it('tells the MSP to have the client grant admin consent when the app is not in the tenant', () => {
    const failure = tokenFailure(
      entraError(
        'unauthorized_client',
        700016,
        "Application with identifier '1111' was not found in the directory 'Contoso'.",
        400,
      ),
      context,
    );
    assert.equal(failure.reason, 'forbidden');
    assert.equal(failure.code, 'AADSTS700016');
    assert.equal(failure.retryable, false);
    assert.match(failure.message, /not consented in tenant 4a1c2b3d-0000-4000-8000-00000000c0de/);
    assert.ok(
      failure.message.includes(
        `https://login.microsoftonline.com/${context.tenantId}/adminconsent?client_id=${context.clientId}`,
      ),
    );
  });

  it('tells the MSP to renew the credential when the secret is refused', () => {
    const failure = tokenFailure(
      entraError('invalid_client', 7000215, 'Invalid client secret provided.', 401),
      context,
    );
    assert.equal(failure.reason, 'forbidden');
    assert.equal(failure.code, 'AADSTS7000215');
    assert.equal(failure.httpStatus, 401);
    assert.match(failure.message, /create a new secret or certificate/);
  });

  it('tells the MSP to check the tenant id when the tenant does not exist', () => {
    const unknown = tokenFailure(
      entraError('invalid_request', 90002, "Tenant '4a1c…' not found.", 400),
      context,
    );
    assert.equal(unknown.reason, 'invalid');
    assert.match(unknown.message, /check the client's tenant id/);
    const undiscoverable = tokenFailure(
      new AuthError('openid_config_error', 'Could not retrieve endpoints.'),
      context,
    );
    assert.equal(undiscoverable.reason, 'invalid');
    assert.match(undiscoverable.message, /check the client's tenant id/);
  });

  it('calls an unreachable or failing sign-in service retryable', () => {
    assert.deepEqual(
      [
        tokenFailure(new AuthError('network_error', 'Network request failed'), context),
        tokenFailure(
          new ServerError('server_error', 'A server error occured.', undefined, undefined, 503),
          context,
        ),
      ].map((f) => [f.reason, f.retryable]),
      [
        ['unavailable', true],
        ['unavailable', true],
      ],
    );
  });

  it('refuses a certificate thumbprint that is neither SHA-1 nor SHA-256 before any request', () => {
    assert.throws(
      () =>
        new MsalTokenProvider({
          clientId: context.clientId,
          credential: { kind: 'certificate', thumbprint: 'AB:CD', privateKeyPem: 'unused' },
          authorityBase: context.authorityBase,
        }),
      /40 \(SHA-1\) or 64 \(SHA-256\) hex digits/,
    );
  });

  it('keeps the first line of an unexpected Entra refusal, without trace ids', () => {
    const failure = tokenFailure(
      entraError('invalid_request', 50049, 'Unknown or invalid instance.', 400),
      context,
    );
    assert.equal(failure.code, 'AADSTS50049');
    assert.match(failure.message, /AADSTS50049: Unknown or invalid instance\.$/);
  });
});
