/**
 * Where a secret may come from instead of the config file itself. For a secret option `password`:
 *   password: "${env:SF_PASSWORD}"      the variable, read at start-up
 *   passwordEnv: SF_PASSWORD            the same, spelled as an option
 *   passwordFile: /run/secrets/sf_pw    the file's content, trailing newline removed
 *   password: literal                   allowed, but a file in version control leaks it
 * `${env:NAME}` works in any string option (e.g. a broker list per environment).
 */
export interface SecretSources {
  env: NodeJS.ProcessEnv;
  /** Reads a file as UTF-8; throws when it cannot. */
  readFile: (path: string) => string;
  /**
   * The permission bits of a file (symbolic links followed); absent for in-memory sources,
   * which have no owner to protect against.
   */
  fileMode?: (path: string) => number;
}

/**
 * Why a secret file must not be used as it is, or null when it may. A file that the group or
 * everyone can read has already given its secret to every account on the host (and to every
 * process of a container sharing the mount): refuse it rather than use a secret that is no
 * longer one. `allowInsecure` (config allowInsecureSecretFiles) accepts it for hosts where the
 * mode cannot be set, e.g. a volume that ignores modes.
 */
export function insecureFileProblem(
  path: string,
  sources: SecretSources,
  allowInsecure: boolean,
): { problem: string; allowed: string } | null {
  if (allowInsecure || !sources.fileMode) return null;
  let mode: number;
  try {
    mode = sources.fileMode(path) & 0o777;
  } catch {
    return null; // unreadable: reading it reports why
  }
  if ((mode & 0o044) === 0) return null;
  const who = [mode & 0o040 && 'its group', mode & 0o004 && 'every user'].filter(Boolean).join(' and ');
  return {
    problem: `is readable by ${who} (mode ${mode.toString(8).padStart(4, '0')}): its secret is not secret on this host`,
    allowed:
      `chmod 600 ${path} (or 400, owned by the user the connector runs as); on Kubernetes defaultMode: 0400; ` +
      'or set allowInsecureSecretFiles: true to accept it',
  };
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces each ${env:NAME}; returns the names that are not set (and leaves them empty). */
export function interpolate(text: string, env: NodeJS.ProcessEnv): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(ENV_REF, (_, name: string) => {
    const v = env[name];
    if (v === undefined) missing.push(name);
    return v ?? '';
  });
  return { text: out, missing };
}
