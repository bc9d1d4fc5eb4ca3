import { createHash, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** What the sandbox cloud needs to serve HTTPS and sign tokens. */
export interface CloudKeyMaterial {
  readonly caCertificatePem: string;
  readonly caCertificatePath: string;
  readonly serverCertificatePem: string;
  readonly serverKeyPem: string;
  readonly signingKeyPem: string;
  readonly signingCertificatePem: string;
  /** The certificate registered on Cabinet's app (its "Certificates & secrets"), and its private key. */
  readonly appCertificatePem: string;
  readonly appKeyPem: string;
}

const FILES = {
  caCert: 'ca.crt.pem',
  caKey: 'ca.key.pem',
  serverCert: 'server.crt.pem',
  serverKey: 'server.key.pem',
  signingCert: 'token-signing.crt.pem',
  signingKey: 'token-signing.key.pem',
  appCert: 'graph-app.crt.pem',
  appKey: 'graph-app.key.pem',
} as const;

const CA_DAYS = 5 * 365;
/** A year, as MSPs usually issue the certificate of an app registration. */
const APP_CERTIFICATE_DAYS = 365;
/** Within the 398-day ceiling browsers apply to leaf certificates. */
const SERVER_DAYS = 397;
/** Regenerate a little before expiry so a long-running sandbox does not die on the day. */
const RENEW_MARGIN_MS = 24 * 60 * 60 * 1000;
const SERVER_NAMES = { dns: 'localhost', ip: '127.0.0.1' } as const;

/**
 * Loads the local CA, the server certificate (SANs `localhost`, `127.0.0.1`), the token-signing
 * key and the app registration's client certificate from `certDir`, creating or renewing whatever is
 * missing, expired or inconsistent.
 * @remarks A file lock serialises processes sharing one folder (tests in parallel, `npm start`
 * twice). The CA is kept while valid so anything that already trusts it keeps working. Private keys
 * are written with mode 0600.
 */
export async function loadOrCreateKeyMaterial(
  certDir: string,
  now: Date,
  log: (line: string) => void = () => {},
): Promise<CloudKeyMaterial> {
  mkdirSync(certDir, { recursive: true });
  const release = await acquireLock(join(certDir, '.lock'));
  try {
    return ensureKeyMaterial(certDir, now, log);
  } finally {
    release();
  }
}

function ensureKeyMaterial(
  certDir: string,
  now: Date,
  log: (line: string) => void,
): CloudKeyMaterial {
  const path = (name: keyof typeof FILES) => join(certDir, FILES[name]);
  let ca = readPair(path('caCert'), path('caKey'));
  if (!ca || !isCurrent(ca.cert, now) || !keyMatches(ca)) {
    log(`sandbox cloud: creating a local certificate authority in ${certDir}`);
    ca = createCertificateAuthority(now);
    writePair(path('caCert'), path('caKey'), ca);
  }
  let server = readPair(path('serverCert'), path('serverKey'));
  if (!server || !isCurrent(server.cert, now) || !keyMatches(server) || !isServerFor(server, ca)) {
    log('sandbox cloud: issuing a server certificate for localhost and 127.0.0.1');
    server = issueServerCertificate(ca, now);
    writePair(path('serverCert'), path('serverKey'), server);
  }
  let signing = readPair(path('signingCert'), path('signingKey'));
  if (!signing || !isCurrent(signing.cert, now) || !keyMatches(signing)) {
    signing = createSigningCertificate(now);
    writePair(path('signingCert'), path('signingKey'), signing);
  }
  let app = readPair(path('appCert'), path('appKey'));
  if (!app || !isCurrent(app.cert, now) || !keyMatches(app)) {
    log('sandbox cloud: registering a new client certificate on the sandbox app');
    app = createAppCertificate(now);
    writePair(path('appCert'), path('appKey'), app);
  }
  return {
    caCertificatePem: forge.pki.certificateToPem(ca.cert),
    caCertificatePath: path('caCert'),
    serverCertificatePem: forge.pki.certificateToPem(server.cert),
    serverKeyPem: server.keyPem,
    signingKeyPem: signing.keyPem,
    signingCertificatePem: forge.pki.certificateToPem(signing.cert),
    appCertificatePem: forge.pki.certificateToPem(app.cert),
    appKeyPem: app.keyPem,
  };
}

interface CertificateAndKey {
  readonly cert: forge.pki.Certificate;
  readonly keyPem: string;
}

function readPair(certPath: string, keyPath: string): CertificateAndKey | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    return {
      cert: forge.pki.certificateFromPem(readFileSync(certPath, 'utf8')),
      keyPem: readFileSync(keyPath, 'utf8'),
    };
  } catch {
    return undefined;
  }
}

function writePair(certPath: string, keyPath: string, pair: CertificateAndKey): void {
  writeAtomically(keyPath, pair.keyPem, 0o600);
  writeAtomically(certPath, forge.pki.certificateToPem(pair.cert), 0o644);
}

function writeAtomically(path: string, content: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

function isCurrent(cert: forge.pki.Certificate, now: Date): boolean {
  return (
    cert.validity.notBefore.getTime() <= now.getTime() &&
    cert.validity.notAfter.getTime() - RENEW_MARGIN_MS > now.getTime()
  );
}

function keyMatches(pair: CertificateAndKey): boolean {
  try {
    const certKey = pair.cert.publicKey as forge.pki.rsa.PublicKey;
    const privateKey = forge.pki.privateKeyFromPem(pair.keyPem);
    return certKey.n.equals(privateKey.n) && certKey.e.equals(privateKey.e);
  } catch {
    return false;
  }
}

function isServerFor(server: CertificateAndKey, ca: CertificateAndKey): boolean {
  try {
    if (!ca.cert.verify(server.cert)) return false;
  } catch {
    return false;
  }
  const san: { altNames?: { type: number; value?: string; ip?: string }[] } | undefined =
    server.cert.getExtension('subjectAltName');
  const names = san?.altNames ?? [];
  return (
    names.some((name) => name.type === 2 && name.value === SERVER_NAMES.dns) &&
    names.some((name) => name.type === 7 && name.ip === SERVER_NAMES.ip)
  );
}

/** RSA keys come from node:crypto (native, fast); forge only builds and signs the X.509 structures. */
function newKey(): { forgeKey: forge.pki.rsa.PrivateKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { forgeKey: forge.pki.privateKeyFromPem(pem), pem };
}

function newCertificate(
  key: forge.pki.rsa.PrivateKey,
  now: Date,
  days: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // Positive serial: the high bit of the first byte cleared.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 24 * 60 * 60 * 1000);
  return cert;
}

function createCertificateAuthority(now: Date): CertificateAndKey {
  const key = newKey();
  const cert = newCertificate(key.forgeKey, now, CA_DAYS);
  const subject = [
    { name: 'commonName', value: 'Cabinet sandbox local CA' },
    { name: 'organizationName', value: 'Cabinet sandbox' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { cert, keyPem: key.pem };
}

function issueServerCertificate(ca: CertificateAndKey, now: Date): CertificateAndKey {
  const key = newKey();
  const cert = newCertificate(key.forgeKey, now, SERVER_DAYS);
  cert.setSubject([{ name: 'commonName', value: SERVER_NAMES.dns }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: SERVER_NAMES.dns },
        { type: 7, ip: SERVER_NAMES.ip },
      ],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { cert, keyPem: key.pem };
}

/** Entra publishes its signing keys with a self-signed certificate (`x5c`); so does the sandbox. */
function createSigningCertificate(now: Date): CertificateAndKey {
  const key = newKey();
  const cert = newCertificate(key.forgeKey, now, CA_DAYS);
  const subject = [{ name: 'commonName', value: 'Cabinet sandbox token signing' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { cert, keyPem: key.pem };
}

/**
 * What an MSP makes for an app registration's certificate credential: a self-signed certificate
 * (Entra checks no chain, only that the assertion's key is one it has registered).
 */
function createAppCertificate(now: Date): CertificateAndKey {
  const key = newKey();
  const cert = newCertificate(key.forgeKey, now, APP_CERTIFICATE_DAYS);
  const subject = [{ name: 'commonName', value: 'Cabinet (sandbox) Graph app' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { cert, keyPem: key.pem };
}

/** The certificate's SHA-1 thumbprint, base64url: Entra's `kid`/`x5t` format. */
export function thumbprint(certificatePem: string): string {
  const der = forge.asn1.toDer(
    forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certificatePem)),
  );
  return createHash('sha1').update(Buffer.from(der.getBytes(), 'binary')).digest('base64url');
}

/** The certificate's DER, base64 (not url-safe): the JWKS `x5c` entry. */
export function certificateDerBase64(certificatePem: string): string {
  const der = forge.asn1.toDer(
    forge.pki.certificateToAsn1(forge.pki.certificateFromPem(certificatePem)),
  );
  return Buffer.from(der.getBytes(), 'binary').toString('base64');
}

/** A throwaway signing key for "unknown key" tokens; never published. */
export function createUnpublishedSigningKey(): ReturnType<typeof createPrivateKey> {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

const LOCK_STALE_MS = 30_000;

async function acquireLock(lockPath: string): Promise<() => void> {
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // Already removed as stale by another process; nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (isStale(lockPath)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Another waiter removed it first.
        }
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

function isStale(lockPath: string): boolean {
  try {
    return Date.now() - statSync(lockPath).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}
