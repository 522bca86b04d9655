import type { Service } from '../catalogue/service.js';
import type { CustomServiceConfig } from './schema.js';

const AUTH_HEADERS = ['authorization', 'proxy-authorization'];

/** A config `services[]` entry as a catalogue Service (what the proxy and policy use). */
export function toService(c: CustomServiceConfig): Service {
  const host = new URL(c.upstream).hostname.toLowerCase();
  const carrier = c.carrier;
  const headers =
    carrier.kind === 'header' ? [carrier.header.toLowerCase(), ...AUTH_HEADERS] : [...AUTH_HEADERS];
  const service: Service = {
    name: c.name,
    title: c.title ?? c.name,
    envVar: c.envVar,
    aliases: [...c.aliases],
    upstream: c.upstream.replace(/\/+$/, ''),
    hosts: [...new Set([host, ...c.extraHosts.map((h) => h.toLowerCase().replace(/\.$/, ''))])],
    carrier,
    credentialHeaders: [...new Set(headers)],
    credentialParams: carrier.kind === 'query' ? [carrier.param] : [],
    baseUrlVariables: c.baseUrlVariables.map((v) => (v.suffix === undefined ? { name: v.name } : { ...v })),
    placeholderPrefix: c.placeholderPrefix,
    placeholderLength: c.placeholderLength,
    llm: c.llm,
  };
  if (c.caFile !== undefined) service.caFile = c.caFile;
  return service;
}
