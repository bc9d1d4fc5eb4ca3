// Types of verify.mjs for the TypeScript tests; the verifier itself ships as plain JavaScript.

export interface VerifyLimits {
  readonly maxMemberBytes: number;
  readonly maxTotalBytes: number;
  readonly maxMembers: number;
}

export declare const DEFAULT_LIMITS: VerifyLimits;

export interface VerifyFailure {
  readonly seq?: number;
  readonly file?: string;
  /** Stable code, e.g. PREV_MISMATCH, TRUNCATED_BEFORE_CHECKPOINT, HOSTILE_PATH. */
  readonly reason: string;
  readonly detail: string;
}

export interface VerifyWarning {
  readonly code: string;
  readonly message: string;
  readonly seq?: number;
  readonly entries?: number;
  readonly windowSeconds?: number;
}

export interface BundleReport {
  readonly verified: boolean;
  readonly tenantId?: string;
  readonly pinnedKey?: string;
  readonly entries: number;
  readonly checkpoints: {
    readonly checked: number;
    readonly anchored: readonly number[];
    readonly unanchored: readonly number[];
  };
  readonly firstFailure?: VerifyFailure;
  readonly warnings: readonly VerifyWarning[];
}

export interface ProofReport {
  readonly verified: boolean;
  readonly tenantId?: string;
  readonly treeSize?: number;
  readonly pinnedKey?: string;
  readonly entries: readonly number[];
  readonly firstFailure?: VerifyFailure;
}

export interface Verdict<R> {
  /** 0 verified, 1 tampered or inconsistent, 2 malformed. */
  readonly exitCode: 0 | 1 | 2;
  readonly report: R;
}

export interface VerifyOptions {
  /** Required SHA-256 SPKI fingerprint (hex) of the first key of the key manifest. */
  readonly pin?: string;
  readonly limits?: Partial<VerifyLimits>;
}

export declare function verifyBundle(
  input: Uint8Array | ReadonlyMap<string, Uint8Array>,
  options?: VerifyOptions,
): Promise<Verdict<BundleReport>>;

export declare function verifyInclusionProof(
  doc: unknown,
  options?: { readonly pin?: string },
): Promise<Verdict<ProofReport>>;

export declare function canonicalJson(value: unknown): string;

export declare function noteKeyHash(name: string, spkiDer: Uint8Array): Buffer;

export declare function verifyInclusion(
  leaf: Buffer,
  index: number,
  size: number,
  proof: readonly Buffer[],
  root: Buffer,
): boolean;

export declare function verifyConsistency(
  m: number,
  n: number,
  rootM: Buffer,
  rootN: Buffer,
  proof: readonly Buffer[],
): boolean;

/** The module's shape, for CommonJS tests that load it with a dynamic import. */
export interface VerifierModule {
  readonly verifyBundle: typeof verifyBundle;
  readonly verifyInclusionProof: typeof verifyInclusionProof;
  readonly verifyInclusion: typeof verifyInclusion;
  readonly verifyConsistency: typeof verifyConsistency;
}
