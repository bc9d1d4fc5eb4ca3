import JSZip from 'jszip';

/** One member of an archive: its path inside the ZIP and its exact bytes. */
export interface ArchiveMember {
  readonly path: string;
  readonly bytes: Buffer;
}

/**
 * Every member's modification time. A fixed date (not the export time) is what lets the same
 * range export to a byte-identical file; JSZip writes it as a UTC DOS date.
 */
export const ZIP_MEMBER_DATE = new Date(Date.UTC(2000, 0, 1, 0, 0, 0));

/** Fixed so that a change of JSZip's default cannot change the bytes of an export. */
const DEFLATE_LEVEL = 6;

/**
 * A ZIP whose bytes depend only on the members: sorted paths, fixed dates, DEFLATE at a fixed
 * level, DOS platform (no Unix permission bits), no folder entries, no comments.
 * @remarks JSZip adds extra fields only for non-ASCII names, so paths must be ASCII; it writes
 * members in insertion order, hence the sort.
 */
export async function deterministicZip(members: readonly ArchiveMember[]): Promise<Buffer> {
  const zip = new JSZip();
  const sorted = [...members].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i += 1) {
    if (sorted[i]!.path === sorted[i - 1]!.path)
      throw new Error(`duplicate archive member ${sorted[i]!.path}`);
  }
  for (const member of sorted) {
    if (!/^[\x21-\x7e]+$/.test(member.path) || member.path.endsWith('/'))
      throw new Error(`archive member path must be printable ASCII without spaces: ${member.path}`);
    zip.file(member.path, member.bytes, {
      date: ZIP_MEMBER_DATE,
      createFolders: false,
      binary: true,
    });
  }
  return zip.generateAsync({
    type: 'nodebuffer',
    compression: 'DEFLATE',
    compressionOptions: { level: DEFLATE_LEVEL },
    platform: 'DOS',
    streamFiles: false,
  });
}
