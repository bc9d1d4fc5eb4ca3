import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import {
  GENESIS_HASH,
  HASH_PREFIX,
  canonicalize,
  chainEvents,
  hashCanonical,
  sealEntry,
  verifyChain,
  type AuditEntry,
  type ChainableEvent,
  type StoredAuditEntry,
} from '../../../src/domain/audit/audit-chain';
import type { JsonValue } from '../../../src/domain/shared/json';
import { CONTOSO_TENANT_ID, FABRIKAM_TENANT_ID, people } from '../../support/fixtures';

/** The double with exactly these IEEE-754 bits (RFC 8785 Appendix B lists them this way). */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

/** The chain hash recomputed from first principles, independently of the code under test. */
function independentHash(canonical: string): string {
  const bytes = Buffer.concat([
    Buffer.from([0x00]),
    Buffer.from('cabinet-audit/v1\n', 'utf8'),
    Buffer.from(canonical, 'utf8'),
  ]);
  return createHash('sha256').update(bytes).digest('hex');
}

describe(canonicalize.name, () => {
  const sut = canonicalize;

  it('matches the RFC 8785 §3.2.2 sample', () => {
    const input =
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
      '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n' +
      '  "literals": [null, true, false]\n}';
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    assert.equal(sut(JSON.parse(input) as JsonValue), expected);
  });

  it('sorts properties by UTF-16 code units as RFC 8785 §3.2.3 shows', () => {
    const input =
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
      '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}';
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
      '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    assert.equal(sut(JSON.parse(input) as JsonValue), expected);
  });

  // RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
  const numbers: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, text] of numbers) {
    it(`writes the double 0x${bits} as ${text}`, () => {
      assert.equal(sut(fromBits(bits)), text);
      assert.equal(sut([fromBits(bits)]), `[${text}]`);
    });
  }

  it('refuses NaN and infinities, which JSON cannot carry', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      assert.throws(() => sut(fromBits(bits)));
    }
  });

  it('drops insignificant whitespace, keeps array order and escapes only what JSON requires', () => {
    const value = JSON.parse(
      ' { "b" : [ 3 , 1 , 2 ] , "a" : { "y" : "tab\\there" , "x" : "é/<>&" } } ',
    ) as JsonValue;
    assert.equal(sut(value), '{"a":{"x":"é/<>&","y":"tab\\there"},"b":[3,1,2]}');
  });

  it('gives the same text whatever order the properties were built in', () => {
    assert.equal(sut({ z: 1, a: { d: true, c: null } }), sut({ a: { c: null, d: true }, z: 1 }));
  });
});

const ENTRY: AuditEntry = {
  tenantId: CONTOSO_TENANT_ID,
  seq: 1,
  prev: GENESIS_HASH,
  ts: '2026-11-23T09:00:00.000Z',
  type: 'request.submitted',
  actor: { tid: people.carla.tid, oid: people.carla.oid },
  requestId: 'CONTOSO-1',
  payload: { version: 1, status: 'submitted' },
};

describe(hashCanonical.name, () => {
  const sut = hashCanonical;

  it('hashes 0x00 ‖ "cabinet-audit/v1\\n" ‖ the canonical bytes (fixed vector)', () => {
    const canonical = canonicalize(ENTRY);
    assert.equal(
      canonical,
      '{"actor":{"oid":"c0a70000-0000-4000-8000-000000000021","tid":"c0a7050a-0000-4000-8000-000000000002"},' +
        '"payload":{"status":"submitted","version":1},"prev":"0000000000000000000000000000000000000000000000000000000000000000",' +
        '"requestId":"CONTOSO-1","seq":1,"tenantId":"c0a7050a-0000-4000-8000-000000000002","ts":"2026-11-23T09:00:00.000Z","type":"request.submitted"}',
    );
    // Computed outside Node: printf '\x00cabinet-audit/v1\n%s' "$canonical" | sha256sum
    assert.equal(
      sut(canonical),
      '120e193171f04c59f65b802f48457d9e9348f438354fd2366925237a0096c710',
    );
    assert.equal(sut(canonical), independentHash(canonical));
  });

  it('hashes non-ASCII text as UTF-8 (fixed vector)', () => {
    const canonical = canonicalize({
      ...ENTRY,
      tenantId: 't',
      actor: { tid: 't', oid: 'cabinet-system' },
      requestId: null,
      type: 'client.onboarded',
      ts: '2026-01-01T00:00:00.000Z',
      payload: { note: '€ Zoë' },
    });
    assert.equal(
      sut(canonical),
      '6e2145219ae4020de1593e14268cf0b1e8a32e181f8b4f6d96bd7b665a19b32b',
    );
    assert.equal(sut(canonical), independentHash(canonical));
  });

  it('is domain-separated: not the plain SHA-256 of the entry', () => {
    const canonical = canonicalize(ENTRY);
    assert.notEqual(sut(canonical), createHash('sha256').update(canonical).digest('hex'));
    assert.equal(HASH_PREFIX, 'cabinet-audit/v1\n');
  });
});

function events(n: number, tenant = CONTOSO_TENANT_ID): ChainableEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    type: i === 0 ? 'client.onboarded' : 'request.triaged',
    actor: { tid: tenant, oid: people.andy.oid },
    requestId: i === 0 ? null : `CONTOSO-${i}`,
    payload: { n: i, nested: { list: [i, 'x'] } },
  }));
}

const TS = '2026-11-23T09:00:00.000Z';

describe(chainEvents.name, () => {
  const sut = chainEvents;

  it('starts a chain at seq 1 with prev = 64 zeros', () => {
    const [first] = sut(CONTOSO_TENANT_ID, undefined, events(1), TS);
    assert.equal(first!.seq, 1);
    const parsed = JSON.parse(first!.canonical) as AuditEntry;
    assert.equal(parsed.prev, '0'.repeat(64));
    assert.equal(GENESIS_HASH, '0'.repeat(64));
    assert.equal(first!.hash, independentHash(first!.canonical));
  });

  it('links every entry to the hash of the one before, continuing after a head', () => {
    const firstBatch = sut(CONTOSO_TENANT_ID, undefined, events(3), TS);
    const head = { seq: firstBatch.at(-1)!.seq, hash: firstBatch.at(-1)!.hash };
    const more = sut(CONTOSO_TENANT_ID, head, events(2), TS);
    const chain = [...firstBatch, ...more];
    assert.deepEqual(
      chain.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    for (let i = 1; i < chain.length; i += 1) {
      assert.equal((JSON.parse(chain[i]!.canonical) as AuditEntry).prev, chain[i - 1]!.hash);
    }
  });

  it('stores exactly the canonical text it hashed', () => {
    for (const stored of sut(CONTOSO_TENANT_ID, undefined, events(3), TS)) {
      assert.equal(stored.canonical, canonicalize(JSON.parse(stored.canonical) as JsonValue));
      assert.equal(stored.hash, hashCanonical(stored.canonical));
    }
  });

  it('matches sealEntry for a single entry', () => {
    const [first] = sut(
      CONTOSO_TENANT_ID,
      undefined,
      [
        {
          type: ENTRY.type,
          actor: ENTRY.actor,
          requestId: ENTRY.requestId,
          payload: ENTRY.payload,
        },
      ],
      ENTRY.ts,
    );
    assert.deepEqual(first, sealEntry(ENTRY));
  });
});

describe(verifyChain.name, () => {
  const sut = verifyChain;
  const chain = (): StoredAuditEntry[] => chainEvents(CONTOSO_TENANT_ID, undefined, events(6), TS);

  /** Replaces one entry's canonical text and, optionally, re-hashes it as a forger would. */
  function rewrite(
    entries: StoredAuditEntry[],
    seq: number,
    change: (e: Record<string, unknown>) => void,
    rehash: boolean,
  ): StoredAuditEntry[] {
    return entries.map((e) => {
      if (e.seq !== seq) return e;
      const parsed = JSON.parse(e.canonical) as Record<string, unknown>;
      change(parsed);
      const canonical = canonicalize(parsed as JsonValue);
      return { seq: e.seq, canonical, hash: rehash ? hashCanonical(canonical) : e.hash };
    });
  }

  it('accepts an intact chain with its count and head hash', () => {
    const entries = chain();
    assert.deepEqual(sut(CONTOSO_TENANT_ID, entries), {
      ok: true,
      count: 6,
      headHash: entries.at(-1)!.hash,
    });
  });

  it('accepts an empty chain with the genesis head', () => {
    assert.deepEqual(sut(CONTOSO_TENANT_ID, []), { ok: true, count: 0, headHash: GENESIS_HASH });
  });

  const tampered: [string, (entries: StoredAuditEntry[]) => StoredAuditEntry[], number, RegExp][] =
    [
      [
        'edited content',
        (es) => rewrite(es, 3, (e) => ((e['payload'] as Record<string, unknown>)['n'] = 99), false),
        3,
        /hash does not match/,
      ],
      [
        'edited content, re-hashed',
        (es) => rewrite(es, 3, (e) => (e['type'] = 'approval.granted'), true),
        4,
        /prev does not match/,
      ],
      [
        'an edited actor',
        (es) =>
          rewrite(
            es,
            5,
            (e) => (e['actor'] = { tid: people.lena.tid, oid: people.lena.oid }),
            false,
          ),
        5,
        /hash does not match/,
      ],
      ['a deleted entry', (es) => es.filter((e) => e.seq !== 4), 4, /entry 4 is missing/],
      [
        'the tail entry deleted and another appended',
        (es) => [...es.slice(0, 5), { ...es[5]!, seq: 7 }],
        6,
        /missing/,
      ],
      [
        'two entries swapped',
        (es) => [es[0]!, es[2]!, es[1]!, ...es.slice(3)],
        2,
        /missing|out of order/,
      ],
      [
        'a duplicated entry',
        (es) => [...es.slice(0, 3), es[2]!, ...es.slice(3)],
        4,
        /out of order/,
      ],
      [
        'a rewritten prev',
        (es) => rewrite(es, 2, (e) => (e['prev'] = 'f'.repeat(64)), true),
        2,
        /prev does not match/,
      ],
      [
        'a first entry not starting from genesis',
        (es) => rewrite(es, 1, (e) => (e['prev'] = 'a'.repeat(64)), true),
        1,
        /prev does not match/,
      ],
      [
        'non-canonical whitespace',
        (es) =>
          es.map((e) =>
            e.seq === 2 ? { ...e, canonical: e.canonical.replace('{"actor"', '{ "actor"') } : e,
          ),
        2,
        /not in canonical form/,
      ],
      [
        'reordered properties',
        (es) =>
          es.map((e) =>
            e.seq === 2
              ? {
                  ...e,
                  canonical: JSON.stringify({ seq: 2, ...(JSON.parse(e.canonical) as object) }),
                }
              : e,
          ),
        2,
        /not in canonical form/,
      ],
      [
        'an entry that claims another seq',
        (es) => rewrite(es, 3, (e) => (e['seq'] = 30), true),
        3,
        /claims seq 30/,
      ],
      [
        'an entry of another tenant',
        (es) => rewrite(es, 2, (e) => (e['tenantId'] = FABRIKAM_TENANT_ID), true),
        2,
        /belongs to tenant/,
      ],
      [
        'text that is not JSON',
        (es) => es.map((e) => (e.seq === 6 ? { ...e, canonical: e.canonical.slice(0, -1) } : e)),
        6,
        /not JSON/,
      ],
      [
        'an entry missing its fields',
        (es) => rewrite(es, 2, (e) => delete e['actor'], true),
        2,
        /audit entry fields/,
      ],
    ];
  for (const [what, tamper, seq, reason] of tampered) {
    it(`fails at seq ${seq} on ${what}`, () => {
      const verdict = sut(CONTOSO_TENANT_ID, tamper(chain()));
      assert.equal(verdict.ok, false);
      if (verdict.ok) return;
      assert.equal(verdict.seq, seq);
      assert.match(verdict.reason, reason);
    });
  }

  it("fails at seq 1 when the chain is verified as another tenant's", () => {
    const verdict = sut(FABRIKAM_TENANT_ID, chain());
    assert.deepEqual(verdict, {
      ok: false,
      seq: 1,
      reason: `entry belongs to tenant ${CONTOSO_TENANT_ID}`,
    });
  });
});
