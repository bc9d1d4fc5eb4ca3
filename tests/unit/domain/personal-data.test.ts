import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import {
  isSealedPersonalData,
  openPersonalData,
  sealPersonalData,
  type DataKey,
} from '../../../src/domain/audit/personal-data';
import type { JsonObject } from '../../../src/domain/shared/json';
import { CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID } from '../../support/fixtures';

const key = (kid = 'k1'): DataKey => ({ kid, key: randomBytes(32) });
const DATA: JsonObject = {
  title: 'Onboard Jane Doe',
  details: { userPrincipalName: 'jane.doe@contoso.example', groups: ['Finance'] },
  reason: 'Zoë starts Monday €',
};

/** Flips one bit of a base64url field. */
function flip(field: string): string {
  const bytes = Buffer.from(field, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64url');
}

describe(sealPersonalData.name, () => {
  const sut = sealPersonalData;

  it('round-trips through openPersonalData with the same key and tenant', () => {
    const k = key();
    const sealed = sut(DATA, k, randomBytes(12), CONTOSO_TENANT_ID);
    assert.deepEqual(openPersonalData(sealed, k, CONTOSO_TENANT_ID), DATA);
  });

  it('keeps nothing readable: only the algorithm, key id, iv, ciphertext and tag', () => {
    const sealed = sut(DATA, key('kid-7'), randomBytes(12), CONTOSO_TENANT_ID);
    assert.deepEqual(Object.keys(sealed).sort(), ['alg', 'ct', 'iv', 'kid', 'tag']);
    assert.equal(sealed.alg, 'A256GCM');
    assert.equal(sealed.kid, 'kid-7');
    const text = JSON.stringify(sealed);
    for (const secret of ['Onboard Jane Doe', 'jane.doe@contoso.example', 'Zoë starts Monday'])
      assert.ok(!text.includes(secret), secret);
    assert.ok(isSealedPersonalData(sealed));
  });

  it('gives different ciphertexts for different ivs', () => {
    const k = key();
    assert.notEqual(
      sut(DATA, k, randomBytes(12), CONTOSO_TENANT_ID).ct,
      sut(DATA, k, randomBytes(12), CONTOSO_TENANT_ID).ct,
    );
  });
});

describe(openPersonalData.name, () => {
  const sut = openPersonalData;
  const k = key();
  const sealed = sealPersonalData(DATA, k, randomBytes(12), CONTOSO_TENANT_ID);

  it('returns undefined with the wrong key, even under the same key id', () => {
    assert.equal(sut(sealed, key('k1'), CONTOSO_TENANT_ID), undefined);
  });

  it("returns undefined when opened as another tenant's data", () => {
    assert.equal(sut(sealed, k, FABRIKAM_TENANT_ID), undefined);
  });

  for (const field of ['ct', 'tag', 'iv'] as const) {
    it(`returns undefined when the ${field} was altered`, () => {
      assert.equal(
        sut({ ...sealed, [field]: flip(sealed[field]) }, k, CONTOSO_TENANT_ID),
        undefined,
      );
    });
  }

  it('returns undefined for an authentication tag truncated to a prefix of the real one', () => {
    for (const bytes of [4, 8, 12, 15]) {
      const short = Buffer.from(sealed.tag, 'base64url').subarray(0, bytes).toString('base64url');
      assert.equal(
        sut({ ...sealed, tag: short }, k, CONTOSO_TENANT_ID),
        undefined,
        `${bytes}-byte tag`,
      );
    }
  });

  it('returns undefined for a truncated ciphertext or garbage', () => {
    assert.equal(sut({ ...sealed, ct: sealed.ct.slice(0, 4) }, k, CONTOSO_TENANT_ID), undefined);
    assert.equal(sut({ ...sealed, tag: '' }, k, CONTOSO_TENANT_ID), undefined);
  });
});

describe(isSealedPersonalData.name, () => {
  it('recognises only the sealed shape', () => {
    assert.equal(isSealedPersonalData({ title: 'clear' }), false);
    assert.equal(isSealedPersonalData(null), false);
    assert.equal(isSealedPersonalData({ alg: 'A256GCM', kid: 'k', iv: 'i', ct: 'c' }), false);
    assert.equal(
      isSealedPersonalData({ alg: 'A128GCM', kid: 'k', iv: 'i', ct: 'c', tag: 't' }),
      false,
    );
  });
});
