import assert from 'node:assert/strict';
import {
  createHaloPsaConnector,
  toHtml,
  verifyHaloWebhook,
} from '../../../src/adapters/psa/halopsa-connector';
import { PsaError, type PsaInboundDelivery } from '../../../src/application/ports/psa';

const SECRET = 's3cret:with-colon';

function delivery(body: unknown, authorization?: string): PsaInboundDelivery {
  return {
    headers: { authorization },
    rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('verifyHaloWebhook', () => {
  it('accepts the secret as Bearer or as the Basic password, naming the ticket', () => {
    const body = { ticket: { id: 1001 }, action: { id: 2, ticket_id: 1001 } };

    assert.deepEqual(verifyHaloWebhook(SECRET, delivery(body, `Bearer ${SECRET}`)), {
      ok: true,
      ticketIds: ['1001'],
    });
    assert.deepEqual(verifyHaloWebhook(SECRET, delivery(body, basic('halo', SECRET))), {
      ok: true,
      ticketIds: ['1001'],
    });
  });

  it('refuses a missing, wrong or truncated secret with 401 before reading the body', () => {
    for (const header of [
      undefined,
      'Bearer nope',
      `Bearer ${SECRET.slice(0, -1)}`,
      basic(SECRET, 'x'),
      'Token abc',
    ]) {
      const result = verifyHaloWebhook(SECRET, delivery('not json', header));
      assert.deepEqual(result.ok ? 'ok' : result.status, 401, String(header));
    }
  });

  it('takes every ticket of a batched delivery once', () => {
    const body = [
      { ticket: { id: 1 } },
      { action: { ticket_id: '2' } },
      { ticket: { id: 1 }, action: { ticket_id: 1 } },
    ];

    assert.deepEqual(verifyHaloWebhook(SECRET, delivery(body, `Bearer ${SECRET}`)), {
      ok: true,
      ticketIds: ['1', '2'],
    });
  });

  it('refuses a body that is not JSON or names no usable ticket id with 400', () => {
    for (const body of [
      '{',
      {},
      [],
      { ticket: { id: 'x' } },
      { ticket: { id: -4 } },
      [{ ticket: { id: 1 } }, null],
    ]) {
      const result = verifyHaloWebhook(SECRET, delivery(body, `Bearer ${SECRET}`));
      assert.deepEqual(result.ok ? 'ok' : result.status, 400, JSON.stringify(body));
    }
  });
});

describe('toHtml', () => {
  it('escapes markup and keeps paragraphs and line breaks', () => {
    assert.equal(
      toHtml('<script>alert("x")</script> & \'q\'\nline 2\n\n\npara 2'),
      '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;<br>line 2</p><p>para 2</p>',
    );
  });
});

describe('createHaloPsaConnector', () => {
  it('reports a 2xx answer that is not JSON as transient', async () => {
    const fakeFetch: typeof fetch = (input) =>
      Promise.resolve(
        (input instanceof Request ? input.url : input.toString()).endsWith('/token')
          ? Response.json({ access_token: 't', expires_in: 3600 })
          : new Response('<html>gateway</html>', { status: 200 }),
      );
    const sut = createHaloPsaConnector({
      apiUrl: 'https://halo.example/api',
      authUrl: 'https://halo.example/auth',
      clientId: 'c',
      clientSecret: 's',
      webhookSecret: 'w',
      fetch: fakeFetch,
    });

    await assert.rejects(
      sut.listChangedTickets(new Date(0)),
      (error: unknown) => error instanceof PsaError && error.failure === 'transient',
    );
  });
});
