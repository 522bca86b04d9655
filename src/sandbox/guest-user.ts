import { readFileSync } from 'node:fs';
import { AirlockError } from '../errors.js';
import { ENV } from '../config/env-vars.js';

/** The unprivileged identity a guest runs as. */
export interface GuestUser {
  uid: number;
  gid: number;
  /** HOME inside the sandbox (an empty tmpfs): the passwd home when it is under /home, else /home/guest */
  home: string;
}

export const NOBODY = 65534;
/** HOME for a guest user whose passwd entry has none under /home (nobody, service users) */
export const GUEST_HOME = '/home/guest';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readPasswd(file = '/etc/passwd'): PasswdEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .map(([name = '', , uid = '', gid = '', , home = '/']) => ({
      name,
      uid: Number(uid),
      gid: Number(gid),
      home,
    }));
}

/**
 * `--user NAME | UID | UID:GID`; without it the sudo caller (SUDO_UID/SUDO_GID), else nobody.
 * Root is refused: a guest with uid 0 could read the state directory.
 */
export function resolveGuestUser(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): GuestUser {
  const passwd = readPasswd();
  const byUid = (uid: number) => passwd.find((p) => p.uid === uid);
  let uid: number;
  let gid: number | undefined;
  if (spec === undefined) {
    const sudoUid = Number(env[ENV.sudoUid]);
    const sudoGid = Number(env[ENV.sudoGid]);
    uid = Number.isInteger(sudoUid) && env[ENV.sudoUid] ? sudoUid : NOBODY;
    gid = Number.isInteger(sudoGid) && env[ENV.sudoGid] ? sudoGid : undefined;
    if (uid === 0) uid = NOBODY;
  } else if (/^\d+(:\d+)?$/.test(spec)) {
    const [u, g] = spec.split(':');
    uid = Number(u);
    gid = g === undefined ? undefined : Number(g);
  } else {
    const entry = passwd.find((p) => p.name === spec);
    if (!entry) {
      throw new AirlockError('AIRLOCK_ERR_USER_UNKNOWN', `--user ${spec}: no such user`, {
        hint: 'give a user name from /etc/passwd, a numeric UID, or UID:GID',
      });
    }
    uid = entry.uid;
  }
  if (uid === 0 || gid === 0) {
    throw new AirlockError(
      'AIRLOCK_ERR_USER_UNKNOWN',
      `--user ${spec ?? ''}: guests never run as root (uid/gid 0)`,
      {
        hint: 'pick an unprivileged user, e.g. --user nobody',
      },
    );
  }
  const entry = byUid(uid);
  const home = entry?.home.startsWith('/home/') ? entry.home : GUEST_HOME;
  return { uid, gid: gid ?? entry?.gid ?? uid, home };
}
