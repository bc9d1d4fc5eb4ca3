import { strict as assert } from 'node:assert';
import { createLocalJWKSet } from 'jose';
import { TabTokenValidator, type TokenFailure } from '../../../src/surfaces/tab/sso-token';
import type { Person } from '../../../src/domain/change-request/change-request';
import type { TenantId } from '../../../src/domain/shared/ids';
import { FakeClock } from '../../fakes/in-memory-storage';
import { people } from '../../support/fixtures';
import {
  JwksServer,
  TAB_CLIENT_ID,
  TAB_HOST,
  mintIdToken,
  mintTabToken,
  signingKey,
  type MintOptions,
  type SigningKey,
} from '../../support/tab-tokens';

const ONBOARDED = new Set<string>([people.tina.tid, people.carla.tid, people.fiona.tid]);
const stranger: Person = {
  tid: 'dead0000-0000-4000-8000-0000000000ff' as TenantId,
  oid: people.tina.oid,
  name: 'Someone Else',
};

describe(TabTokenValidator.name, () => {
  let key: SigningKey;
  let rogue: SigningKey;
  let jwks: JwksServer;
  let clock: FakeClock;
  let sut: TabTokenValidator;
  const now = () => Math.floor(clock.now().getTime() / 1000);
  const mint = (person: Person, options: Partial<MintOptions> = {}) =>
    mintTabToken(person, { key, now: now(), ...options });

  before(async () => {
    key = await signingKey();
    rogue = await signingKey();
    jwks = await JwksServer.start(() => [key.jwk]);
  });
  after(() => jwks.close());

  beforeEach(() => {
    clock = new FakeClock();
    jwks.fetches.clear();
    sut = new TabTokenValidator({
      clientId: TAB_CLIENT_ID,
      applicationIdHost: TAB_HOST,
      authority: jwks.authority(),
      tenantAllowed: (tid) => Promise.resolve(ONBOARDED.has(tid)),
      clock,
    });
  });

  const refused = async (token: string | undefined, reason: TokenFailure) => {
    const result = await sut.validate(token);
    assert.deepEqual(result, { ok: false, error: reason });
  };

  it('accepts a v2 Teams token, verified with the tenant key set fetched over trusted HTTPS', async () => {
    const result = await sut.validate(await mint(people.tina));

    assert.deepEqual(result, {
      ok: true,
      value: { tid: people.tina.tid, oid: people.tina.oid, name: people.tina.name },
    });
    assert.equal(jwks.fetches.get(people.tina.tid), 1);
  });

  it('accepts a v1 token: sts.windows.net issuer, appid and the Application ID URI as audience', async () => {
    const result = await sut.validate(await mint(people.carla, { version: '1.0' }));

    assert.ok(result.ok);
    assert.equal(result.value.oid, people.carla.oid);
  });

  describe('refuses (T18 token matrix)', () => {
    it('a token for another audience', async () => {
      await refused(
        await mint(people.tina, { claims: { aud: '11111111-0000-4000-8000-000000000000' } }),
        'wrong_audience',
      );
      await refused(
        await mint(people.tina, { claims: { aud: `api://evil.example/${TAB_CLIENT_ID}` } }),
        'wrong_audience',
      );
    });

    it('an issuer naming another tenant than tid', async () => {
      await refused(
        await mint(people.tina, {
          claims: { iss: `https://login.microsoftonline.com/${people.carla.tid}/v2.0` },
        }),
        'wrong_issuer',
      );
    });

    it('an issuer in the other version’s format', async () => {
      await refused(
        await mint(people.tina, { claims: { iss: `https://sts.windows.net/${people.tina.tid}/` } }),
        'wrong_issuer',
      );
    });

    it('an expired token, beyond the five minutes of skew', async () => {
      const token = await mint(people.tina, { lifetimeSeconds: 600 });
      clock.advance((600 + 301) * 1000);
      await refused(token, 'expired');
    });

    it('a token not valid yet, beyond the skew', async () => {
      await refused(
        await mint(people.tina, { claims: { nbf: now() + 301, iat: now() + 301 } }),
        'not_yet_valid',
      );
    });

    it('a token signed by a key the tenant never published', async () => {
      await refused(await mint(people.tina, { key: rogue }), 'bad_signature');
    });

    it('a token signed by another key under a published key id', async () => {
      await refused(await mint(people.tina, { key: { ...rogue, kid: key.kid } }), 'bad_signature');
    });

    it('an ID token', async () => {
      await refused(await mintIdToken(people.tina, { key, now: now() }), 'missing_scope');
    });

    it('a token without access_as_user', async () => {
      await refused(await mint(people.tina, { claims: { scp: 'User.Read' } }), 'missing_scope');
    });

    it('a token a non-Teams client obtained', async () => {
      await refused(
        await mint(people.tina, { claims: { azp: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' } }),
        'unauthorized_client',
      );
      await refused(
        await mint(people.tina, {
          version: '1.0',
          claims: { appid: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' },
        }),
        'unauthorized_client',
      );
    });

    it('a tenant Cabinet does not serve, without fetching its keys', async () => {
      await refused(await mint(stranger), 'unknown_tenant');
      assert.equal(jwks.fetches.get(stranger.tid), undefined);
    });

    it('no token, garbage, an unsigned token and a missing version', async () => {
      await refused(undefined, 'missing');
      await refused('not.a.token', 'malformed');
      const unsigned = (await mint(people.tina)).split('.');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      await refused(`${none}.${unsigned[1]}.`, 'malformed');
      await refused(await mint(people.tina, { claims: { ver: undefined } }), 'unsupported_version');
    });
  });

  it('accepts a token that expired within the skew', async () => {
    const token = await mint(people.tina, { lifetimeSeconds: 600 });
    clock.advance((600 + 240) * 1000);

    assert.ok((await sut.validate(token)).ok);
  });

  it('says the keys are unavailable when the key set host is not trusted', async () => {
    const untrusting = new TabTokenValidator({
      clientId: TAB_CLIENT_ID,
      authority: { ...jwks.authority(), ca: undefined },
      tenantAllowed: () => Promise.resolve(true),
      clock,
    });

    assert.deepEqual(await untrusting.validate(await mint(people.tina)), {
      ok: false,
      error: 'keys_unavailable',
    });
  });

  it('keeps key sets for a bounded number of tenants', async () => {
    const tenants = Array.from(
      { length: 6 },
      (_, i) => `aaaa0000-0000-4000-8000-00000000000${i}` as TenantId,
    );
    const bounded = new TabTokenValidator({
      clientId: TAB_CLIENT_ID,
      tenantAllowed: () => Promise.resolve(true),
      clock,
      maxCachedTenants: 2,
      keySetFor: () => createLocalJWKSet({ keys: [key.jwk] }),
    });

    for (const tid of tenants) {
      const result = await bounded.validate(await mint({ ...people.tina, tid }));
      assert.ok(result.ok, tid);
    }

    assert.equal(bounded.cachedTenants, 2);
  });
});
