import assert from 'node:assert/strict';
import {
  Client,
  GraphClientError,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { DirectoryError } from '../../../src/application/ports/tenant-directory';
import {
  classifyGraphError,
  isLicenceAlreadySo,
  isMissingReference,
  parseRetryAfter,
  refusalFromBatchResponse,
  refusalFromError,
} from '../../../src/adapters/graph/graph-error.mapper';

const NOW = Date.parse('2026-03-02T10:00:00Z');

/** A Graph client whose transport answers with a canned response, so errors come out of the real SDK. */
async function sdkError(answer: () => Response | Promise<Response>): Promise<unknown> {
  const transport: Middleware = {
    async execute(context: Context) {
      context.response = await answer();
    },
    setNext() {},
  };
  const client = Client.initWithMiddleware({ middleware: [transport] });
  try {
    await client.api('/users/someone').get();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected the SDK to throw');
}

function graphAnswer(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  return sdkError(
    () =>
      new Response(
        JSON.stringify({
          error: {
            code,
            message,
            innerError: {
              date: '2026-03-02T10:00:00',
              'request-id': 'req-1',
              'client-request-id': 'client-1',
            },
          },
        }),
        {
          status,
          headers: {
            'content-type': 'application/json;odata.metadata=minimal;charset=utf-8',
            ...headers,
          },
        },
      ),
  );
}

async function classify(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
) {
  return refusalFromError(await graphAnswer(status, code, message, headers), NOW);
}

describe('Graph error mapper', () => {
  const cases: [number, string, string, string][] = [
    [
      400,
      'Request_BadRequest',
      'Another object with the same value for property userPrincipalName already exists.',
      'already_exists',
    ],
    [
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
      'already_exists',
    ],
    [
      400,
      'Request_BadRequest',
      'Subscription 6fd2c87f-b296-42f0-b197-1e91e994b900 does not have any available licenses.',
      'no_free_seats',
    ],
    [
      400,
      'Request_BadRequest',
      'License assignment cannot be done for user with invalid usage location.',
      'no_usage_location',
    ],
    [
      400,
      'Request_BadRequest',
      'User license is inherited from a group membership and it cannot be removed directly from the user.',
      'inherited_licence',
    ],
    [
      400,
      'Request_BadRequest',
      'Cannot Update a mail-enabled security groups and or distribution list.',
      'mail_enabled_group',
    ],
    [400, 'Request_BadRequest', 'Property userPrincipalName is invalid.', 'invalid'],
    [
      404,
      'Request_ResourceNotFound',
      "Resource '0d1e…' does not exist or one of its queried reference-property objects are not present.",
      'not_found',
    ],
    [
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
      'forbidden',
    ],
    [
      401,
      'Authorization_IdentityNotFound',
      'The identity of the calling application could not be established.',
      'forbidden',
    ],
    [
      401,
      'InvalidAuthenticationToken',
      'Access token has expired or is not yet valid.',
      'forbidden',
    ],
    [418, 'Teapot', 'I am a teapot.', 'unknown'],
  ];
  for (const [status, code, message, reason] of cases)
    it(`classifies ${status} ${code} "${message.slice(0, 40)}…" as ${reason}, keeping Graph's facts`, async () => {
      const { failure, ambiguous } = await classify(status, code, message);
      assert.deepEqual(failure, {
        reason,
        code,
        message,
        httpStatus: status,
        requestId: 'req-1',
        retryable: false,
      });
      assert.equal(ambiguous, false);
    });

  it('classifies 429 as throttled and retryable, with Retry-After in seconds', async () => {
    const { failure, ambiguous } = await classify(429, 'TooManyRequests', 'Too many requests.', {
      'Retry-After': '7',
    });
    assert.equal(failure.reason, 'throttled');
    assert.equal(failure.retryable, true);
    assert.equal(failure.retryAfterMs, 7000);
    assert.equal(ambiguous, false);
  });

  it('classifies 503 with an HTTP-date Retry-After as unavailable, retryable and ambiguous', async () => {
    const { failure, ambiguous } = await classify(503, 'ServiceUnavailable', 'Try later.', {
      'Retry-After': new Date(NOW + 5000).toUTCString(),
    });
    assert.equal(failure.reason, 'unavailable');
    assert.equal(failure.retryable, true);
    assert.equal(failure.retryAfterMs, 5000);
    assert.equal(ambiguous, true);
  });

  it('classifies a gateway 504 with a plain-text body as an ambiguous outage', async () => {
    const error = await sdkError(
      () =>
        new Response('Gateway Timeout', { status: 504, headers: { 'content-type': 'text/plain' } }),
    );
    const { failure, ambiguous } = refusalFromError(error, NOW);
    assert.equal(failure.reason, 'unavailable');
    assert.equal(failure.httpStatus, 504);
    assert.equal(failure.code, 'HTTP504');
    assert.equal(failure.retryable, true);
    assert.equal(ambiguous, true);
  });

  it('classifies a dropped connection and a timeout as ambiguous, retryable outages', async () => {
    const dropped = refusalFromError(
      await sdkError(() => {
        throw new TypeError('fetch failed');
      }),
      NOW,
    );
    assert.deepEqual(
      { reason: dropped.failure.reason, code: dropped.failure.code, ambiguous: dropped.ambiguous },
      { reason: 'unavailable', code: 'NoResponse', ambiguous: true },
    );
    const timedOut = refusalFromError(
      await sdkError(() => {
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }),
      NOW,
    );
    assert.deepEqual(
      {
        reason: timedOut.failure.reason,
        code: timedOut.failure.code,
        ambiguous: timedOut.ambiguous,
      },
      { reason: 'unavailable', code: 'Timeout', ambiguous: true },
    );
  });

  it('passes a token failure through unchanged and never calls it ambiguous', () => {
    const failure = {
      reason: 'forbidden',
      code: 'AADSTS700016',
      message: 'not consented',
      retryable: false,
    } as const;
    const carrier = new GraphClientError('no token');
    carrier.customError = new DirectoryError(failure);
    assert.deepEqual(refusalFromError(carrier, NOW), { failure, ambiguous: false });
  });

  it('reads a $batch sub-response with the same envelope and a Retry-After in any case', () => {
    const { failure, ambiguous } = refusalFromBatchResponse(
      {
        id: '3',
        status: 429,
        headers: { 'retry-after': '2' },
        body: {
          error: {
            code: 'TooManyRequests',
            message: 'Slow down.',
            innerError: { 'request-id': 'r3' },
          },
        },
      },
      NOW,
    );
    assert.deepEqual(failure, {
      reason: 'throttled',
      code: 'TooManyRequests',
      message: 'Slow down.',
      httpStatus: 429,
      requestId: 'r3',
      retryable: true,
      retryAfterMs: 2000,
    });
    assert.equal(ambiguous, false);
  });

  it('recognises the refusals that mean "already so"', async () => {
    const notMember = (
      await classify(
        404,
        'Request_ResourceNotFound',
        "One or more removed object references do not exist for the following modified properties: 'members'.",
      )
    ).failure;
    const notMemberAs400 = classifyGraphError({
      status: 400,
      code: 'Request_BadRequest',
      message:
        "One or more removed object references do not exist for the following modified properties: 'members'.",
    });
    const upnTaken = (
      await classify(
        400,
        'Request_BadRequest',
        'Another object with the same value for property userPrincipalName already exists.',
      )
    ).failure;
    assert.equal(isMissingReference(notMember), true);
    assert.equal(isMissingReference(notMemberAs400), true);
    assert.equal(isMissingReference(upnTaken), false);
    const noSuchLicence = classifyGraphError({
      status: 400,
      code: 'Request_BadRequest',
      message: 'User does not have a corresponding license.',
    });
    assert.equal(isLicenceAlreadySo(noSuchLicence), true);
    assert.equal(isLicenceAlreadySo(upnTaken), false);
  });

  it('parses Retry-After as seconds or an HTTP date, past dates as zero, and ignores garbage', () => {
    assert.equal(parseRetryAfter('1', NOW), 1000);
    assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
    assert.equal(parseRetryAfter(new Date(NOW + 3000).toUTCString(), NOW), 3000);
    assert.equal(parseRetryAfter(new Date(NOW - 3000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter(null, NOW), undefined);
  });
});
