import { readFileSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { closestName } from '../did-you-mean.js';

/** Where a credential's real value comes from. */
export type SecretSource = { kind: 'env'; variable: string } | { kind: 'file'; path: string };

export interface CredentialRequest {
  /** the credential variable, e.g. OPENAI_API_KEY */
  name: string;
  source: SecretSource;
}

export interface ResolvedSecret {
  name: string;
  /** `env:VAR` or `file:PATH`, for messages and the audit log (never the value) */
  origin: string;
  /** the real secret; keep it in memory only */
  value: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const sourceError = (message: string, hint?: string) =>
  new AirlockError('AIRLOCK_ERR_SECRET_SOURCE', message, hint === undefined ? {} : { hint });

/** Parses `env:VAR` or `file:PATH`; `what` names the flag or config key for errors. */
export function parseSecretSource(text: string, what: string): SecretSource {
  if (text.startsWith('env:')) {
    const variable = text.slice(4);
    if (!NAME.test(variable)) throw sourceError(`${what}: "env:${variable}" does not name a variable`);
    return { kind: 'env', variable };
  }
  if (text.startsWith('file:')) {
    const path = text.slice(5);
    if (path === '') throw sourceError(`${what}: "file:" needs a path`);
    return { kind: 'file', path };
  }
  // never echo `text`: it is most likely the secret itself
  throw sourceError(
    `${what}: a literal secret is refused (on a command line it shows in ps to every user)`,
    'give NAME to read $NAME, NAME=env:OTHER_VAR, or NAME=file:/path/to/secret',
  );
}

/** Parses one `--cred` value: `NAME`, `NAME=env:OTHER` or `NAME=file:PATH`. */
export function parseCredFlag(flag: string): CredentialRequest {
  const eq = flag.indexOf('=');
  const name = eq < 0 ? flag : flag.slice(0, eq);
  if (!NAME.test(name)) {
    // the part after = may be a secret; show only the name part
    throw sourceError(`--cred "${name}${eq < 0 ? '' : '=…'}": "${name}" is not a variable name`);
  }
  if (eq < 0) return { name, source: { kind: 'env', variable: name } };
  return { name, source: parseSecretSource(flag.slice(eq + 1), `--cred ${name}=…`) };
}

export interface ResolveOptions {
  /** reads a secret file (omitted = fs.readFileSync as UTF-8) */
  readFile?: (path: string) => string;
}

/**
 * Reads a credential's value from its source. Errors name the variable or file, never the
 * value. A file's one trailing newline is dropped; empty values and values with control
 * characters (which would split an HTTP header) are refused.
 */
export function resolveSecretSource(
  name: string,
  source: SecretSource | string,
  env: NodeJS.ProcessEnv,
  options: ResolveOptions = {},
): ResolvedSecret {
  const src = typeof source === 'string' ? parseSecretSource(source, name) : source;
  let value: string;
  let origin: string;
  if (src.kind === 'env') {
    origin = `env:${src.variable}`;
    const v = env[src.variable];
    if (v === undefined) {
      // names only: the closest variable that is set, never a value
      const close = closestName(src.variable, Object.keys(env));
      throw sourceError(
        `credential ${name}: variable ${src.variable} is not set`,
        `${close ? `did you mean ${close}? ` : ''}export ${src.variable} before running airlock (sudo -E keeps it)`,
      );
    }
    value = v;
  } else {
    origin = `file:${src.path}`;
    try {
      value = (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(src.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw sourceError(`credential ${name}: cannot read file ${src.path} (${code})`);
    }
    value = value.replace(/\r?\n$/, '');
  }
  if (value === '') throw sourceError(`credential ${name}: ${origin} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw sourceError(`credential ${name}: ${origin} holds a line break or control character`);
  }
  return { name, origin, value };
}
