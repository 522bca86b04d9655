/** A problem found in configuration data, located by its path (`profiles.dev.hosts[2]`). */
export interface PolicyIssue {
  path: (string | number)[];
  message: string;
}

/** `['profiles', 'dev', 'hosts', 2]` → `profiles.dev.hosts[2]`; odd keys are quoted. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const k = String(key);
      out += /^[A-Za-z_$][\w$-]*$/.test(k) ? (out === '' ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    }
  }
  return out === '' ? '(root)' : out;
}
