import { strict as assert } from 'node:assert';
import {
  asClientCode,
  asObjectId,
  asTenantId,
  formatRequestId,
  parseRequestId,
  type ClientCode,
} from '../../../src/domain/shared/ids';

describe(parseRequestId.name, () => {
  const sut = parseRequestId;

  it('round-trips an id built by formatRequestId', () => {
    const id = formatRequestId('CONTOSO' as ClientCode, 1042);
    assert.equal(id, 'CONTOSO-1042');
    assert.deepEqual(sut(id), { id: 'CONTOSO-1042', code: 'CONTOSO', number: 1042 });
  });

  it('normalises lower-case and padded input to the canonical id', () => {
    assert.deepEqual(sut('  contoso-7 '), { id: 'CONTOSO-7', code: 'CONTOSO', number: 7 });
    assert.deepEqual(sut('Fabrikam2-15'), { id: 'FABRIKAM2-15', code: 'FABRIKAM2', number: 15 });
  });

  for (const junk of [
    '',
    'CONTOSO',
    'CONTOSO-',
    'CONTOSO-0',
    'CONTOSO-007',
    'CONTOSO--1',
    'CONTOSO-1-2',
    '1CONTOSO-1',
    'C-1',
    'CONTOSO_X-1',
    'CONTOSO-1.5',
    'CONTOSO-12345678901',
    'ABCDEFGHIJKLMNOPQ-1',
    'CONTOSO-1/../x',
    'CONTOSO-1#',
  ]) {
    it(`refuses ${JSON.stringify(junk)}`, () => {
      assert.equal(sut(junk), undefined);
    });
  }
});

describe(asClientCode.name, () => {
  const sut = asClientCode;

  it('accepts 2–16 letters or digits starting with a letter, upper-cased and trimmed', () => {
    assert.equal(sut('CONTOSO'), 'CONTOSO');
    assert.equal(sut(' contoso2 '), 'CONTOSO2');
    assert.equal(sut('AB'), 'AB');
    assert.equal(sut('A'.repeat(16)), 'A'.repeat(16));
  });

  for (const junk of ['', 'A', '1ABC', 'A'.repeat(17), 'CON TOSO', 'CON-TOSO', 'CONTOSO/', 'ÄBC']) {
    it(`refuses ${JSON.stringify(junk)}`, () => {
      assert.equal(sut(junk), undefined);
    });
  }
});

describe(asTenantId.name, () => {
  const sut = asTenantId;

  it('accepts a GUID and lower-cases it', () => {
    assert.equal(
      sut('C0A7050A-0000-4000-8000-000000000002'),
      'c0a7050a-0000-4000-8000-000000000002',
    );
  });

  for (const junk of [
    '',
    'contoso.onmicrosoft.com',
    'c0a7050a-0000-4000-8000-00000000000',
    '{c0a7050a-0000-4000-8000-000000000002}',
    'c0a7050a00004000800000000000000002',
    ' c0a7050a-0000-4000-8000-000000000002',
  ]) {
    it(`refuses ${JSON.stringify(junk)}`, () => {
      assert.equal(sut(junk), undefined);
    });
  }

  it('treats object ids the same way', () => {
    assert.equal(
      asObjectId('7EC40000-0000-4000-8000-000000000011'),
      '7ec40000-0000-4000-8000-000000000011',
    );
    assert.equal(asObjectId('not-a-guid'), undefined);
  });
});
