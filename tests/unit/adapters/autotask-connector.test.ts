import assert from 'node:assert/strict';
import {
  createAutotaskConnector,
  verifyAutotaskWebhook,
} from '../../../src/adapters/psa/autotask-connector';
import { PsaError } from '../../../src/application/ports/psa';
import { autotaskHookSignature, autotaskJson } from '../../../src/sandbox/psa/autotask-server';

const SECRET = 'hook-secret';

function signed(body: unknown): { headers: Record<string, string>; rawBody: Buffer } {
  const rawBody = Buffer.from(autotaskJson(body));
  return { headers: { 'x-hook-signature': autotaskHookSignature(SECRET, rawBody) }, rawBody };
}

describe('autotaskJson', () => {
  it('escapes & < > \' " + ` and non-ASCII inside strings as \\uXXXX, as Autotask does', () => {
    assert.equal(
      autotaskJson({ a: `&<>'"+\`é😀\\\n`, n: 1, b: true, z: null, l: [1, 'x'] }),
      '{"a":"\\u0026\\u003c\\u003e\\u0027\\u0022\\u002b\\u0060\\u00e9\\ud83d\\ude00\\\\\\u000a","n":1,"b":true,"z":null,"l":[1,"x"]}',
    );
  });

  it('parses back to the same value', () => {
    const value = { text: `Tom & Jerry's <"quote"> +1 \`x\` café 👍\ttab`, id: 12 };
    assert.deepEqual(JSON.parse(autotaskJson(value)), value);
  });
});

describe(verifyAutotaskWebhook.name, () => {
  it('names the ticket of a Ticket event by its Id and of a TicketNote event by Fields.ticketID', () => {
    const ticket = signed({ Action: 'Update', EntityType: 'Ticket', Id: 7001, Fields: {} });
    assert.deepEqual(verifyAutotaskWebhook(SECRET, ticket), { ok: true, ticketIds: ['7001'] });
    const note = signed({
      Action: 'Create',
      EntityType: 'TicketNote',
      Id: 30001,
      Fields: { ticketID: 7002 },
    });
    assert.deepEqual(verifyAutotaskWebhook(SECRET, note), { ok: true, ticketIds: ['7002'] });
  });

  it('accepts a deactivation notice with no tickets', () => {
    const body = signed({ Action: 'Deactivated', EntityType: 'Ticket', Id: 0 });
    assert.deepEqual(verifyAutotaskWebhook(SECRET, body), { ok: true, ticketIds: [] });
  });

  it('refuses a body without a ticket id, and a signature without the sha1= prefix', () => {
    const noTicket = signed({ Action: 'Create', EntityType: 'TicketNote', Id: 1, Fields: {} });
    assert.equal(verifyAutotaskWebhook(SECRET, noTicket).ok, false);
    const bare = signed({ Action: 'Update', EntityType: 'Ticket', Id: 7001 });
    const unprefixed = {
      headers: { 'x-hook-signature': (bare.headers['x-hook-signature'] ?? '').slice(5) },
      rawBody: bare.rawBody,
    };
    assert.deepEqual(verifyAutotaskWebhook(SECRET, unprefixed), {
      ok: false,
      status: 401,
      reason: 'missing or malformed X-Hook-Signature',
    });
  });
});

describe('createAutotaskConnector zone discovery', () => {
  it('refuses a zone that names an API host outside the zone service, without sending credentials there', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = (input) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      calls.push(url);
      return Promise.resolve(
        new Response(JSON.stringify({ url: 'https://evil.example/ATServicesRest/', ci: 0 }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
      );
    };
    const sut = createAutotaskConnector({
      username: 'api@msp.example',
      secret: 's',
      integrationCode: 'c',
      webhookSecret: 'w',
      fetch: fakeFetch,
    });
    await assert.rejects(
      sut.listChangedTickets(new Date(0)),
      (error: unknown) => error instanceof PsaError && error.failure === 'permanent',
    );
    assert.deepEqual(calls, [
      'https://webservices.autotask.net/ATServicesRest/V1.0/ZoneInformation?user=api%40msp.example',
    ]);
  });

  it('accepts a zone host under the same domain over HTTPS', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = (input) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      calls.push(url);
      const body = url.includes('ZoneInformation')
        ? {
            url: 'https://webservices5.autotask.net/ATServicesRest/',
            webUrl: 'https://ww5.autotask.net/',
          }
        : { items: [], pageDetails: { count: 0, nextPageUrl: null } };
      return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    };
    const sut = createAutotaskConnector({
      username: 'api@msp.example',
      secret: 's',
      integrationCode: 'c',
      webhookSecret: 'w',
      fetch: fakeFetch,
    });
    assert.deepEqual(await sut.listChangedTickets(new Date(0)), []);
    assert.equal(calls[1], 'https://webservices5.autotask.net/ATServicesRest/V1.0/Tickets/query');
  });
});
