import { strict as assert } from 'node:assert';
import JSZip from 'jszip';
import {
  deterministicZip,
  ZIP_MEMBER_DATE,
} from '../../../src/application/use-cases/deterministic-zip';

describe('deterministicZip', () => {
  const members = [
    { path: 'b/two.txt', bytes: Buffer.from('two\n') },
    { path: 'a.json', bytes: Buffer.from('{"a":1}\n') },
  ];

  it('gives the same bytes for the same members in any order, sorted, no folder entries', async () => {
    const first = await deterministicZip(members);
    const second = await deterministicZip([...members].reverse());
    assert.ok(first.equals(second));
    const zip = await JSZip.loadAsync(first);
    assert.deepEqual(Object.keys(zip.files), ['a.json', 'b/two.txt']);
    assert.equal(zip.files['a.json']!.date.getTime(), ZIP_MEMBER_DATE.getTime());
    assert.equal(await zip.files['b/two.txt']!.async('string'), 'two\n');
  });

  it('refuses duplicate and non-ASCII paths', async () => {
    await assert.rejects(deterministicZip([...members, members[0]!]), /duplicate/);
    await assert.rejects(deterministicZip([{ path: 'é.txt', bytes: Buffer.alloc(0) }]), /ASCII/);
  });
});
