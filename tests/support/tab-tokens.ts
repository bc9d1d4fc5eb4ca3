/**
 * Teams-SSO-like tokens for the tab tests: an RSA signing key published as a JSON Web Key Set by a
 * loopback HTTPS server whose certificate comes from a throwaway CA, and helpers to mint access
 * tokens (and deliberately wrong ones) as Entra would for a Teams client.
 * @packageDocumentation
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, type JWK, type JWTPayload } from 'jose';
import forge from 'node-forge';
import {
  ENTRA_AUTHORITY,
  TEAMS_CLIENT_IDS,
  type TokenAuthority,
} from '../../src/surfaces/tab/sso-token';
import type { Person } from '../../src/domain/change-request/change-request';

/** The app id the tests register Cabinet's tab API as. */
export const TAB_CLIENT_ID = '5a1b0000-0000-4000-8000-0000000000c1';
export const TAB_HOST = 'cabinet.test.example';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

export async function signingKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, jwk };
}

/** A self-signed CA and a certificate for 127.0.0.1 it issued; the CA is what a client must trust. */
export function loopbackCertificate(): {
  readonly caPem: string;
  readonly key: string;
  readonly cert: string;
} {
  const now = new Date();
  const later = new Date(now.getTime() + 24 * 3600 * 1000);
  const toForge = (key: KeyObject) =>
    forge.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const caKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caPrivate = toForge(caKeys.privateKey);
  const ca = forge.pki.createCertificate();
  ca.publicKey = forge.pki.publicKeyFromPem(
    caKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  ca.serialNumber = '01';
  ca.validity.notBefore = now;
  ca.validity.notAfter = later;
  const caName = [{ name: 'commonName', value: 'Cabinet tab test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  ca.sign(caPrivate, forge.md.sha256.create());

  const leafKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = forge.pki.publicKeyFromPem(
    leafKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  leaf.serialNumber = '02';
  leaf.validity.notBefore = now;
  leaf.validity.notAfter = later;
  leaf.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    { name: 'extKeyUsage', serverAuth: true },
  ]);
  leaf.sign(caPrivate, forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(ca),
    key: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: forge.pki.certificateToPem(leaf),
  };
}

/** A loopback HTTPS server publishing `/{tenant}/discovery/v2.0/keys`, counting fetches per tenant. */
export class JwksServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly caPem: string,
    readonly fetches: Map<string, number>,
  ) {}

  static async start(keys: () => readonly JWK[]): Promise<JwksServer> {
    const { caPem, key, cert } = loopbackCertificate();
    const fetches = new Map<string, number>();
    const server = createServer({ key, cert }, (req, res) => {
      const match = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(req.url ?? '');
      if (!match || req.method !== 'GET') {
        res.writeHead(404);
        res.end();
        return;
      }
      const tenant = match[1]!;
      fetches.set(tenant, (fetches.get(tenant) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: keys() }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new JwksServer(server, `https://127.0.0.1:${port}`, caPem, fetches);
  }

  /** Entra's issuers, with the keys served from here over HTTPS signed by the test CA. */
  authority(): TokenAuthority {
    return {
      jwksUri: (tid) => `${this.url}/${tid}/discovery/v2.0/keys`,
      issuer: ENTRA_AUTHORITY.issuer,
      ca: this.caPem,
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

export interface MintOptions {
  readonly key: SigningKey;
  /** Seconds since the epoch the token counts as issued at. */
  readonly now: number;
  readonly lifetimeSeconds?: number;
  readonly version?: '1.0' | '2.0';
  /** Claims to add, replace, or (with `undefined`) remove. */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly header?: Readonly<Record<string, unknown>>;
}

/**
 * An access token for Cabinet's tab API as Entra issues one to Teams for `person`: v2 by default
 * (`azp`, aud = client id), v1 with `appid` and the Application ID URI as aud.
 */
export async function mintTabToken(person: Person, options: MintOptions): Promise<string> {
  const version = options.version ?? '2.0';
  const lifetime = options.lifetimeSeconds ?? 3600;
  const base: Record<string, unknown> = {
    aud: version === '2.0' ? TAB_CLIENT_ID : `api://${TAB_HOST}/${TAB_CLIENT_ID}`,
    iss: ENTRA_AUTHORITY.issuer(person.tid, version),
    iat: options.now,
    nbf: options.now,
    exp: options.now + lifetime,
    ver: version,
    tid: person.tid,
    oid: person.oid,
    sub: `sub-${person.oid}`,
    name: person.name,
    scp: 'access_as_user',
    ...(version === '2.0' ? { azp: TEAMS_CLIENT_IDS[0] } : { appid: TEAMS_CLIENT_IDS[1] }),
  };
  const claims = { ...base, ...options.claims };
  const payload = Object.fromEntries(
    Object.entries(claims).filter(([, value]) => value !== undefined),
  ) as JWTPayload;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.key.kid, ...options.header })
    .sign(options.key.privateKey);
}

/** An OpenID Connect ID token for the same person: no `scp`, audience the client, a nonce. */
export async function mintIdToken(person: Person, options: MintOptions): Promise<string> {
  return mintTabToken(person, {
    ...options,
    claims: {
      aud: TAB_CLIENT_ID,
      scp: undefined,
      azp: undefined,
      nonce: 'n-0S6_WzA2Mj',
      ...options.claims,
    },
  });
}
