import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { AirlockError } from '../errors.js';
import { HOST_LOCK_FILE } from '../store/host-lock.js';

/** A group from /etc/group. */
export interface Group {
  name: string;
  gid: number;
}

export function lookupGroup(name: string, file = '/etc/group'): Group {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [groupName, , gid] = line.split(':');
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return { name, gid: Number(gid) };
  }
  throw new AirlockError('AIRLOCK_ERR_CONFIG', `daemon.group: no group named "${name}" in ${file}`, {
    hint: `create it with: groupadd ${name}`,
  });
}

/** Whether a daemon answers on `path` (a connection is accepted). */
export function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // accepted but slow: something is there
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Makes `path` free for a new daemon: an error when a daemon answers on it, a stale socket
 * (its daemon died) is removed, anything that is not a socket is left alone and refused.
 */
export async function claimSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new AirlockError('AIRLOCK_ERR_CONFIG', `${path} exists and is not a socket; not touching it`, {
      hint: 'give the daemon another --socket, or remove that file',
    });
  }
  if (await answers(path)) {
    throw new AirlockError('AIRLOCK_ERR_DAEMON_RUNNING', `an airlock daemon already answers on ${path}`, {
      hint: 'stop it first (systemctl stop airlock), or give this one another --socket',
    });
  }
  unlinkSync(path);
}

/**
 * The socket's folder: created 0700 when missing. With a group, a root-owned folder that is
 * not world-writable becomes root:group 0710, so members can reach the socket but list
 * nothing; in /run/airlock the host lock is then made 0600, so they cannot open it either.
 */
export function prepareSocketDirectory(path: string, group: Group | undefined): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (group === undefined) return;
  const st = lstatSync(dir);
  if (st.isDirectory() && st.uid === 0 && (st.mode & 0o002) === 0) {
    chownSync(dir, 0, group.gid);
    chmodSync(dir, 0o710);
  }
  if (dir === dirname(HOST_LOCK_FILE) && existsSync(HOST_LOCK_FILE)) chmodSync(HOST_LOCK_FILE, 0o600);
}

/** The socket itself: root's alone (0600), or root:group 0660. */
export function protectSocket(path: string, group: Group | undefined): void {
  if (group === undefined) {
    chmodSync(path, 0o600);
  } else {
    chownSync(path, 0, group.gid);
    chmodSync(path, 0o660);
  }
}
