import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import {
  PLAYGROUND_PERSONAS,
  SANDBOX_BOT,
  playgroundConfig,
  renderPlaygroundConfig,
} from '../../../src/sandbox/playground';
import { CONTOSO, FABRIKAM, MSP, type SandboxPerson } from '../../../src/sandbox/sandbox-tenants';

describe(playgroundConfig.name, () => {
  const personas = Object.values(PLAYGROUND_PERSONAS);

  it('makes the persona the current user, in their own tenant, with the ids Cabinet seeds', () => {
    const sut = playgroundConfig(PLAYGROUND_PERSONAS.carla);

    assert.equal(sut.tenantId, CONTOSO.tenantId);
    assert.deepEqual(sut.currentUser, {
      id: `29:${CONTOSO.carla.oid}`,
      name: 'Carla Admin',
      userPrincipleName: CONTOSO.carla.upn,
      aadObjectId: CONTOSO.carla.oid,
      givenName: 'Carla',
      surname: 'Admin',
      email: CONTOSO.carla.upn,
    });
    assert.deepEqual(sut.bot, SANDBOX_BOT);
  });

  it('puts the MSP technician in the MSP tenant', () => {
    const sut = playgroundConfig(PLAYGROUND_PERSONAS.tina);

    assert.equal(sut.tenantId, MSP.tenantId);
    assert.equal(sut.currentUser.aadObjectId, MSP.tina.oid);
  });

  it('lists exactly five other sandbox people, colleagues first', () => {
    const tenantOf = new Map(
      [MSP, CONTOSO, FABRIKAM]
        .flatMap((org): unknown[] => Object.values(org))
        .filter(
          (value): value is SandboxPerson =>
            typeof value === 'object' && value !== null && 'oid' in value,
        )
        .map((p) => [p.oid as string, p.tid as string]),
    );
    for (const persona of personas) {
      const sut = playgroundConfig(persona);

      assert.equal(sut.users.length, 5, persona.key);
      assert.equal(
        new Set([sut.currentUser.id, ...sut.users.map((u) => u.id)]).size,
        6,
        persona.key,
      );
      const colleague = sut.users.map((u) => {
        assert.ok(tenantOf.has(u.aadObjectId), `${u.name} is not a sandbox person`);
        return tenantOf.get(u.aadObjectId) === persona.person.tid;
      });
      assert.deepEqual(
        colleague,
        [...colleague].sort((a, b) => Number(b) - Number(a)),
        persona.key,
      );
    }
  });

  it('gives every persona its own conversation ids', () => {
    const ids = personas.flatMap((persona) => {
      const sut = playgroundConfig(persona);
      return [
        sut.personalChat.id,
        sut.groupChat.id,
        sut.team.id,
        ...sut.team.channels.map((c) => c.id),
      ];
    });

    assert.equal(new Set(ids).size, ids.length);
  });

  it('writes YAML the playground can read back unchanged', () => {
    const config = playgroundConfig(PLAYGROUND_PERSONAS.andy);

    assert.deepEqual(parse(renderPlaygroundConfig(config)), config);
  });
});
