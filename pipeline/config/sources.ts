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
