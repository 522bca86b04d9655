import type { Catalogue } from '../catalogue/catalogue.js';

/**
 * Network profiles as data, pure. A profile names the hosts a sandbox may reach (through the
 * reverse route for services with a granted credential, through the forward proxy for the
 * rest), optionally endpoint rules per service, and may extend other profiles. Selected
 * profiles compose as a union.
 */
export interface ProfileDefinition {
  /** one line for `airlock profiles` (omitted = none) */
  description?: string;
  /** profiles whose hosts and rules this one includes (omitted = none) */
  extends?: string[];
  /** exact hosts or `*.example.com` patterns (omitted = none) */
  hosts?: string[];
  /** endpoint allow-lists per service name, `METHOD /path-glob` (omitted = none) */
  endpoints?: Record<string, string[]>;
}

/** A built-in profile: a definition plus what only presets can express. */
export interface PresetProfile extends ProfileDefinition {
  name: string;
  description: string;
  /**
   * the hosts of every catalogue service with `llm: true`, for credentials only: a guest
   * reaches them with a credential of the sandbox (base URL or intercepted), never through an
   * opaque tunnel with a key of its own
   */
  llmServices?: boolean;
  /** any public host through the forward proxy; listed with a warning */
  open?: boolean;
  /** nothing leaves; cannot be combined with another profile */
  denyAll?: boolean;
}

/** The hostnames `git clone`/`git push` over HTTPS, `gh` and release/raw downloads use. */
export const GITHUB_HOSTS: readonly string[] = [
  'github.com', // git smart-HTTP, web, release download redirects start here
  'api.github.com', // REST and GraphQL (gh, octokit)
  'uploads.github.com', // release asset uploads (gh release upload)
  'codeload.github.com', // archive tarballs/zipballs
  'raw.githubusercontent.com', // raw file downloads
  'objects.githubusercontent.com', // release assets (older redirect target)
  'objects-origin.githubusercontent.com', // release assets (gh download path)
  'release-assets.githubusercontent.com', // release assets (redirect target since 2025)
  'media.githubusercontent.com', // Git LFS media links
  'github-cloud.githubusercontent.com', // Git LFS object storage
];

export const OPEN_WARNING =
  'profile "open" lets the sandbox reach any public host through the forward proxy (credentials still go only to their own services)';

export const PRESET_PROFILES: readonly PresetProfile[] = [
  {
    name: 'deny-all',
    description: 'nothing leaves the sandbox; no proxy route works',
    denyAll: true,
  },
  {
    name: 'llm-only',
    description: 'the LLM providers of the catalogue (built-in and custom services with llm: true)',
    llmServices: true,
  },
  {
    name: 'github',
    description: 'the GitHub API, git over HTTPS, raw and release downloads',
    hosts: [...GITHUB_HOSTS],
  },
  {
    name: 'open',
    description: 'any public host through the forward proxy (warning: no egress filtering)',
    open: true,
  },
];

export function presetProfile(name: string): PresetProfile | undefined {
  return PRESET_PROFILES.find((p) => p.name === name);
}

/** Hosts a preset lets the forward proxy reach. */
export function presetHosts(preset: PresetProfile, _catalogue: Catalogue): string[] {
  return [...(preset.hosts ?? [])];
}

/** Hosts a preset allows for a granted credential only: llm-only's, computed from the catalogue. */
export function presetCredentialHosts(preset: PresetProfile, catalogue: Catalogue): string[] {
  const hosts: string[] = [];
  if (preset.llmServices) for (const s of catalogue.services) if (s.llm) hosts.push(...s.hosts);
  return hosts;
}
