import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Downloads of the test infrastructure (Kafka's jars, Apicurio's archive) are checked against
 * the checksums Maven Central publishes beside each artifact (.sha1 always, .sha512 for newer
 * uploads). Maven fetches both; with -C (strict checksums) it already refuses a download whose
 * checksum does not match. The copies we run are checked again here, against the published file
 * Maven kept, so a tampered or truncated file in the cache or the local repository is refused too.
 */
export const MAVEN_REPO = process.env.MAVEN_REPO_LOCAL ?? path.join(os.homedir(), '.m2', 'repository');

/** Maven's flags for every fetch: batch mode, quiet, and strict checksums (fail, not warn). */
export const MAVEN_FLAGS = ['-B', '-q', '-C'];

/** Checks `file` against the checksum published for the artifact at `published` (its path in the repository). */
export function verifyPublishedChecksum(file: string, published: string): void {
  const algorithm = fs.existsSync(`${published}.sha512`) ? 'sha512' : 'sha1';
  const sumFile = `${published}.${algorithm}`;
  if (!fs.existsSync(sumFile)) {
    throw new Error(
      `${path.basename(file)}: Maven Central's checksum (${published}.sha1) is missing, so the download cannot ` +
        `be verified; delete ${path.dirname(published)} and run again`,
    );
  }
  const expected = fs.readFileSync(sumFile, 'utf8').trim().split(/\s+/)[0].toLowerCase();
  const actual = createHash(algorithm).update(fs.readFileSync(file)).digest('hex');
  if (actual !== expected) {
    throw new Error(
      `${path.basename(file)}: ${algorithm} ${actual} does not match the published ${expected} (${sumFile}); ` +
        `the file is corrupt or tampered with: delete it and ${path.dirname(published)}, then run again`,
    );
  }
}

/**
 * group/…/artifact/version/artifact-version[-classifier].ext, and not a checksum: Maven's own
 * bookkeeping beside it (_remote.repositories, maven-metadata-local.xml) is not an artifact.
 */
function isArtifact(file: string): boolean {
  const version = path.basename(path.dirname(file));
  const artifact = path.basename(path.dirname(path.dirname(file)));
  return path.basename(file).startsWith(`${artifact}-${version}`) && !/\.(sha1|sha512|md5|lastUpdated)$/.test(file);
}

/**
 * Checks every artifact of a directory in repository layout (group/artifact/version/file, as
 * copy-dependencies writes with useRepositoryLayout) and returns the files it checked.
 */
export function verifyRepositoryLayout(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (isArtifact(p)) files.push(p);
    }
  };
  walk(dir);
  for (const f of files) verifyPublishedChecksum(f, path.join(MAVEN_REPO, path.relative(dir, f)));
  return files;
}
