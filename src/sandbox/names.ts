import { randomBytes } from 'node:crypto';

/** Linux limits interface names to 15 characters (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;
export const NETNS_PREFIX = 'airlock-';
export const HOST_IF_PREFIX = 'al-';

/** A sandbox's name (`--name`): never mistaken for a flag, an id pattern or a path. */
export const SANDBOX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const SANDBOX_NAME_RULE = 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)';

export function newSandboxId(): string {
  return randomBytes(4).toString('hex');
}

/** The one place interface names are made; asserts the kernel's length limit. */
export function interfaceName(prefix: string, id: string): string {
  const name = `${prefix}${id}`;
  if (name.length > IFNAME_MAX || !/^[a-z0-9-]+$/.test(name)) {
    throw new RangeError(`interface name ${name} is longer than ${IFNAME_MAX} characters or malformed`);
  }
  return name;
}

export function sandboxNames(id: string): { netns: string; hostIf: string } {
  return { netns: `${NETNS_PREFIX}${id}`, hostIf: interfaceName(HOST_IF_PREFIX, id) };
}
