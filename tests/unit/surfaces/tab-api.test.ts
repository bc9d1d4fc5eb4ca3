import { strict as assert } from 'node:assert';
import type { Application, TeamsAdapter, TurnState } from '@microsoft/teams-ai';
import { createLocalJWKSet } from 'jose';
import { decideApproval } from '../../../src/application/use-cases/decide-approval';
import { submitChange } from '../../../src/application/use-cases/submit-change';
import type { Person } from '../../../src/domain/change-request/change-request';
import type { ChangeType } from '../../../src/domain/change-request/change-request.payloads';
import type { TenantId } from '../../../src/domain/shared/ids';
import { startHttpServer, type RunningHttpServer } from '../../../src/surfaces/http/server';
import { createTabSurface, type SandboxSignIn } from '../../../src/surfaces/tab/tab-surface';
import {
  FABRIKAM_TENANT_ID,
  createHarness,
  people,
  seedClients,
  validFields,
  type Harness,
} from '../../support/fixtures';
import {
  TAB_CLIENT_ID,
  TAB_HOST,
  mintIdToken,
  mintTabToken,
  signingKey,
  type MintOptions,
  type SigningKey,
} from '../../support/tab-tokens';
import { sendToApprovers } from '../../support/approval-flow';

interface TabServer {
  readonly http: RunningHttpServer;
  readonly logs: string[];
}

async function startTab(
  harness: Harness,
  key: SigningKey,
  sandboxSignIn?: SandboxSignIn,
): Promise<TabServer> {
  const logs: string[] = [];
  const log = (m: string) => void logs.push(m);
  const tab = createTabSurface({
    useCases: harness.deps,
    auth: {
      clientId: TAB_CLIENT_ID,
      applicationIdHost: TAB_HOST,
      keySetFor: () => createLocalJWKSet({ keys: [key.jwk] }),
    },
    ...(sandboxSignIn ? { sandboxSignIn } : {}),
    log,
  });
  const http = await startHttpServer(
    {
      // The tab never reaches the bot; these would fail loudly if it did.
      bot: {} as Application<TurnState>,
      adapter: {} as TeamsAdapter,
      readiness: () => Promise.resolve(),
      allowServiceUrl: () => false,
      log,
      tab,
    },
    { host: '127.0.0.1', port: 0 },
  );
  return { http, logs };
}

/** Raises a request of `type` as `requester`, has it assessed and sent, and `approver` approve it. */
async function approved(
  h: Harness,
  requester: Person,
  approver: Person,
  type: ChangeType,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const submitted = await submitChange(h.deps, {
    actor: requester,
    type,
    fields: validFields(type, overrides),
  });
  assert.ok(submitted.ok, submitted.ok ? '' : submitted.error.message);
  const sent = await sendToApprovers(h.deps, submitted.value.request);
  const id = sent.id;
  const decided = await decideApproval(h.deps, {
    actor: approver,
    requestId: id,
    version: sent.version,
    decision: 'approve',
  });
  assert.equal(decided.kind, 'decided');
  return id;
}

interface Json {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

describe('Tab API', () => {
  let key: SigningKey;
  let h: Harness;
  let tab: TabServer;
  /** CONTOSO-1 offboard (approved), CONTOSO-2 general (awaiting approval), FABRIKAM-1 new user (approved). */
  const ids = { offboard: '', general: '', fabrikam: '' };

  before(async () => {
    key = await signingKey();
  });

  beforeEach(async () => {
    h = createHarness();
    await seedClients(h);
    ids.offboard = await approved(h, people.carla, people.andy, 'offboard', {
      title: 'Offboard the leaver',
    });
    const general = await submitChange(h.deps, {
      actor: people.carla,
      type: 'general',
      fields: validFields('general', { title: 'Move the printer' }),
    });
    assert.ok(general.ok);
    ids.general = (await sendToApprovers(h.deps, general.value.request)).id;
    ids.fabrikam = await approved(h, people.fiona, people.frank, 'new_user', {
      title: 'Onboard Fabrikam starter',
      userPrincipalName: 'starter@fabrikam.example',
    });
    tab = await startTab(h, key);
  });

  afterEach(() => tab.http.close());

  const token = (who: Person, options: Partial<MintOptions> = {}) =>
    mintTabToken(who, {
      key,
      now: Math.floor(h.clock.now().getTime() / 1000),
      ...options,
    });

  async function call(
    path: string,
    options: { token?: string; method?: string; body?: string; contentType?: string } = {},
  ): Promise<Json> {
    const response = await fetch(`${tab.http.url}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined
          ? { 'content-type': options.contentType ?? 'application/json' }
          : {}),
      },
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }
  const get = async (path: string, who: Person) => call(path, { token: await token(who) });
  const queueIds = (body: Record<string, unknown>) =>
    (body.requests as { id: string }[]).map((r) => r.id).sort();

  describe('who am I', () => {
    it('tells a technician which clients they serve and a client admin their own client', async () => {
      const tina = await get('/api/tab/me', people.tina);
      const lena = await get('/api/tab/me', people.lena);
      const carla = await get('/api/tab/me', people.carla);

      assert.deepEqual(tina.body, {
        name: people.tina.name,
        isMspStaff: true,
        clients: [{ code: 'CONTOSO', name: 'Contoso Ltd', roles: ['tech'] }],
      });
      assert.deepEqual((lena.body.clients as { code: string }[]).map((c) => c.code).sort(), [
        'CONTOSO',
        'FABRIKAM',
      ]);
      assert.deepEqual(carla.body, {
        name: people.carla.name,
        isMspStaff: false,
        clients: [{ code: 'CONTOSO', name: 'Contoso Ltd', roles: ['client_admin'] }],
      });
    });
  });

  describe('queue', () => {
    it('shows a technician only the clients they serve', async () => {
      assert.deepEqual(
        queueIds((await get('/api/tab/requests', people.tina)).body),
        [ids.offboard, ids.general].sort(),
      );
      assert.deepEqual(queueIds((await get('/api/tab/requests', people.theo)).body), [
        ids.fabrikam,
      ]);
      assert.deepEqual(
        queueIds((await get('/api/tab/requests', people.lena)).body),
        [ids.offboard, ids.general, ids.fabrikam].sort(),
      );
    });

    it('filters by state and client without ever widening the scope', async () => {
      const ready = await get('/api/tab/requests?status=approved', people.tina);
      const otherClient = await get('/api/tab/requests?client=FABRIKAM', people.tina);
      const tenantInQuery = await get(
        `/api/tab/requests?tenant=${FABRIKAM_TENANT_ID}&tenantId=${FABRIKAM_TENANT_ID}&tid=${FABRIKAM_TENANT_ID}`,
        people.carla,
      );

      assert.deepEqual(queueIds(ready.body), [ids.offboard]);
      assert.equal(otherClient.status, 200);
      assert.deepEqual(queueIds(otherClient.body), []);
      assert.deepEqual(queueIds(tenantInQuery.body), [ids.offboard, ids.general].sort());
    });

    it('describes each request for the list', async () => {
      const queue = await get('/api/tab/requests?status=approved', people.tina);

      assert.deepEqual((queue.body.requests as unknown[])[0], {
        id: ids.offboard,
        clientCode: 'CONTOSO',
        clientName: 'Contoso Ltd',
        type: 'offboard',
        typeLabel: 'Offboard a user',
        title: 'Offboard the leaver',
        status: 'approved',
        statusLabel: 'Approved',
        version: 2,
        requester: people.carla.name,
        updatedAt: h.clock.now().toISOString(),
        executable: true,
      });
    });

    it('refuses an unknown state with the field to fix', async () => {
      const response = await get('/api/tab/requests?status=approved,bogus', people.tina);

      assert.equal(response.status, 400);
      const error = response.body.error as { code: string; issues: { field: string }[] };
      assert.equal(error.code, 'CR.INVALID_INPUT');
      assert.equal(error.issues[0]!.field, 'status.1');
    });
  });

  describe('request detail', () => {
    it('shows the request, what the viewer may do and its own timeline only', async () => {
      const response = await get(`/api/tab/requests/${ids.offboard}`, people.tina);

      assert.equal(response.status, 200);
      const request = response.body.request as Record<string, unknown>;
      assert.equal(request.id, ids.offboard);
      assert.deepEqual(
        (request.fields as { name: string; value: unknown }[]).find(
          (f) => f.name === 'userPrincipalName',
        ),
        { name: 'userPrincipalName', label: 'Sign-in name', value: 'leaver@contoso.example' },
      );
      assert.deepEqual(response.body.viewer, {
        roles: ['tech'],
        mayExecute: true,
        mayAssess: false,
        reviewOutcomes: [],
      });
      const timeline = response.body.timeline as { type: string; actor: string }[];
      assert.deepEqual(
        timeline.map((e) => e.type),
        [
          'request.submitted',
          'request.triaged',
          'request.assessed',
          'approval.requested',
          'approval.granted',
        ],
      );
      assert.equal(timeline.at(-1)!.actor, people.andy.name);
    });

    it('lets the client admin read but not execute', async () => {
      const response = await get(`/api/tab/requests/${ids.offboard}`, people.carla);

      assert.equal(response.status, 200);
      assert.deepEqual(response.body.viewer, {
        roles: ['client_admin'],
        mayExecute: false,
        mayAssess: false,
        reviewOutcomes: [],
      });
    });

    it('answers another tenant’s request exactly like one that does not exist', async () => {
      const foreign = await get(
        `/api/tab/requests/${ids.fabrikam}?tenant=${FABRIKAM_TENANT_ID}`,
        people.carla,
      );
      const missing = await get('/api/tab/requests/FABRIKAM-99', people.carla);
      const byTech = await get(`/api/tab/requests/${ids.fabrikam}`, people.tina);

      for (const response of [foreign, missing, byTech]) {
        assert.equal(response.status, 404);
        const error = response.body.error as { code: string; message: string };
        assert.equal(error.code, 'CR.NOT_FOUND');
      }
      assert.equal(
        (foreign.body.error as { message: string }).message,
        `Request ${ids.fabrikam} was not found, or you do not have access to it.`,
      );
      assert.equal(
        (missing.body.error as { message: string }).message,
        'Request FABRIKAM-99 was not found, or you do not have access to it.',
      );
    });
  });

  describe('sign-in (T18 token matrix over HTTP)', () => {
    const stranger: Person = {
      tid: 'dead0000-0000-4000-8000-0000000000ff' as TenantId,
      oid: people.carla.oid,
      name: 'Stranger',
    };

    it('serves only the valid token, and only its own tenant’s data', async () => {
      const now = Math.floor(h.clock.now().getTime() / 1000);
      const rogue = await signingKey(key.kid);
      const refused: Record<string, string> = {
        'wrong aud': await token(people.carla, { claims: { aud: 'api://other/app' } }),
        'iss tenant ≠ tid': await token(people.carla, {
          claims: { iss: `https://login.microsoftonline.com/${FABRIKAM_TENANT_ID}/v2.0` },
        }),
        expired: await token(people.carla, { now: now - 7200 }),
        'unknown key': await token(people.carla, { key: rogue }),
        'ID token': await mintIdToken(people.carla, { key, now }),
        'missing access_as_user': await token(people.carla, { claims: { scp: 'User.Read' } }),
        'non-Teams azp': await token(people.carla, {
          claims: { azp: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' },
        }),
        'tid not onboarded': await token(stranger),
      };

      for (const [name, bad] of Object.entries(refused)) {
        const response = await call('/api/tab/requests', { token: bad });
        assert.equal(response.status, 401, name);
        assert.equal(response.body.requests, undefined, name);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/, name);
      }

      // A validly signed Fabrikam token carrying Carla's oid is another person: no roles, no data.
      const sameOidElsewhere = await call('/api/tab/requests', {
        token: await token({ ...people.carla, tid: FABRIKAM_TENANT_ID }),
      });
      assert.equal(sameOidElsewhere.status, 200);
      assert.deepEqual(queueIds(sameOidElsewhere.body), []);

      const valid = await call('/api/tab/requests', { token: await token(people.carla) });
      assert.equal(valid.status, 200);
      const tenants = new Set(
        (valid.body.requests as { clientCode: string }[]).map((r) => r.clientCode),
      );
      assert.deepEqual([...tenants], ['CONTOSO']);
      assert.ok(!tab.logs.join('\n').includes(await token(people.carla)));
    });

    it('refuses a request without a token, saying to sign in, with a request id', async () => {
      const response = await call('/api/tab/me');

      assert.equal(response.status, 401);
      const error = response.body.error as { code: string; message: string; requestId: string };
      assert.equal(error.code, 'AUTH.MISSING');
      assert.match(error.message, /Sign in/);
      assert.equal(error.requestId, response.headers.get('x-request-id'));
    });
  });

  describe('request bodies', () => {
    it('refuses oversized and non-JSON bodies before any use case runs', async () => {
      const signIn: SandboxSignIn = {
        people: [{ key: 'tina', name: 'Tina Tech', description: 'MSP technician' }],
        issue: () => token(people.tina),
      };
      await tab.http.close();
      tab = await startTab(h, key, signIn);

      const big = await call('/api/tab/sandbox/token', {
        method: 'POST',
        body: JSON.stringify({ person: 'tina', padding: 'x'.repeat(20_000) }),
      });
      const form = await call('/api/tab/sandbox/token', {
        method: 'POST',
        body: 'person=tina',
        contentType: 'application/x-www-form-urlencoded',
      });

      assert.equal(big.status, 413);
      assert.equal((big.body.error as { code: string }).code, 'HTTP.BODY_TOO_LARGE');
      assert.equal(form.status, 415);
    });
  });

  describe('sandbox sign-in', () => {
    it('is not there unless the sandbox provides it', async () => {
      const people = await call('/api/tab/sandbox/people');
      const issued = await call('/api/tab/sandbox/token', {
        method: 'POST',
        body: JSON.stringify({ person: 'tina' }),
      });

      assert.equal(people.status, 404);
      assert.equal(issued.status, 404);
    });

    it('lists the sandbox people and issues a token the API accepts', async () => {
      const issuedFor: string[] = [];
      await tab.http.close();
      tab = await startTab(h, key, {
        people: [
          { key: 'tina', name: 'Tina Tech', description: 'MSP technician — Contoso' },
          { key: 'carla', name: 'Carla Admin', description: 'Client admin — Contoso' },
        ],
        issue: (person) => {
          issuedFor.push(person);
          return token(person === 'tina' ? people.tina : people.carla);
        },
      });

      const list = await call('/api/tab/sandbox/people');
      const issued = await call('/api/tab/sandbox/token', {
        method: 'POST',
        body: JSON.stringify({ person: 'tina' }),
      });
      const unknown = await call('/api/tab/sandbox/token', {
        method: 'POST',
        body: JSON.stringify({ person: 'mallory' }),
      });
      const me = await call('/api/tab/me', { token: issued.body.token as string });

      assert.deepEqual(
        (list.body.people as { key: string }[]).map((p) => p.key),
        ['tina', 'carla'],
      );
      assert.equal(issued.status, 200);
      assert.equal(unknown.status, 400);
      assert.match((unknown.body.error as { message: string }).message, /tina, carla/);
      assert.deepEqual(issuedFor, ['tina']);
      assert.equal(me.body.name, people.tina.name);
    });
  });

  describe('static pages', () => {
    it('serves the tab page with a policy that lets only Teams frame it', async () => {
      const page = await fetch(`${tab.http.url}/tab/`);
      const redirect = await fetch(`${tab.http.url}/tab?request=CONTOSO-12`, {
        redirect: 'manual',
      });
      const teamsJs = await fetch(`${tab.http.url}/tab/vendor/teams-js.min.js`);
      const traversal = await fetch(`${tab.http.url}/tab/../package.json`);
      const unknown = await fetch(`${tab.http.url}/tab/secrets.json`);

      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(
        page.headers.get('content-security-policy') ?? '',
        /frame-ancestors 'self' https:\/\/teams\.microsoft\.com/,
      );
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), '/tab/?request=CONTOSO-12');
      assert.equal(teamsJs.status, 200);
      assert.match(await teamsJs.text(), /microsoftTeams/);
      assert.notEqual(traversal.status, 200);
      assert.equal(unknown.status, 404);
    });
  });
});
