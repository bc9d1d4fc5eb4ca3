export interface EvidenceReadmeInput {
  readonly tenantId: string;
  readonly origin: string;
  readonly range: { readonly from: string; readonly to: string };
  readonly entries: number;
  readonly checkpointSizes: readonly number[];
  /** SHA-256 fingerprint (hex) of the first checkpoint key's SPKI, pinned out of band. */
  readonly pinnedKey: string;
  readonly generatorVersion: string;
}

/**
 * README.txt for the auditor: what the bundle holds, how to verify it offline, what the exit codes
 * mean and which key fingerprint to confirm with the MSP through another channel.
 */
export function evidenceReadme(input: EvidenceReadmeInput): string {
  const sizes = input.checkpointSizes.length > 0 ? input.checkpointSizes.join(', ') : 'none';
  return `Cabinet evidence bundle
=======================

Client tenant:  ${input.tenantId}
Log origin:     ${input.origin}
Range (UTC):    ${input.range.from} to ${input.range.to}
Audit entries:  1 to ${input.entries} (the whole log from its first entry to the last one on or before ${input.range.to})
Checkpoints:    ${sizes}
Generator:      cabinet ${input.generatorVersion}

Pinned key fingerprint (SHA-256 of the first checkpoint key, SubjectPublicKeyInfo DER):
    ${input.pinnedKey}
Confirm this fingerprint with the MSP through a channel other than this bundle (for example by
phone or from their published security page). Every later key in keys/keys.json must be endorsed
by the key before it; the verifier checks that chain back to this key.

How to verify (offline, Node.js 18 or later, nothing to install, no network needed)
-----------------------------------------------------------------------------------
    node verifier/verify.mjs <this-bundle>.zip
  or, after unzipping into a folder:
    node verifier/verify.mjs <folder>

The verifier prints a JSON report on stdout (entries, checkpoints checked, anchored and
unanchored checkpoint sizes, the first failure with its entry number and reason, warnings).

Exit codes:
    0  verified: every signature, hash, chain link and checkpoint root is correct
    1  tampered or inconsistent: the report names the first failure
    2  malformed: not a readable bundle (or a hostile archive the verifier refuses to open)

What is checked
---------------
- manifest.json lists every file with its SHA-256; manifest.sig is a signature over manifest.json
  by a checkpoint key from keys/keys.json.
- entries.ndjson holds the audit entries as RFC 8785 canonical JSON, one per line. Each entry's
  hash is SHA-256(0x00 || "cabinet-audit/v1\\n" || entry) and names the previous one in "prev";
  seq runs from 1 without gaps and every entry belongs to this tenant.
- checkpoints/*.note are signed checkpoints (C2SP signed-note, ECDSA P-256): each commits to the
  RFC 6962 Merkle root of the first <size> entries. A bundle shorter than its last checkpoint has
  been truncated. proofs/consistency.json proves each checkpoint extends the previous one.
- anchors/anchors.json lists the checkpoints that were also appended to an append-only store
  outside Cabinet's tables; the report lists which checkpoints are anchored.

Personal data
-------------
Names and free text are sealed in the entries with the client's key. history/requests.json and
history/index.html show them decrypted at export; "[erased]" means the client's key was destroyed
(offboarding or an erasure request) before the export. The chain still verifies.

Files
-----
    manifest.json, manifest.sig        what the bundle holds, signed
    entries.ndjson                     the audit log
    checkpoints/, proofs/, anchors/    signed tree heads, consistency proofs, external anchors
    keys/keys.json                     checkpoint public keys, each endorsed by the one before
    history/index.html                 the change history, readable (open in a browser)
    history/requests.json              the same, as JSON
    controls/control-map.html|.json    which files evidence ISO/IEC 27001, SOC 2, Essential Eight
                                       and PCI DSS change-control requirements
    verifier/verify.mjs                the verifier
`;
}
