import type { Transform } from 'node:stream';

/**
 * The proxy asks upstreams for `accept-encoding: identity` so the secret scrubber sees plain
 * bytes. An upstream that compresses anyway is decoded here (and the guest gets identity), so
 * compression can never hide an echoed secret. `undefined` = no decoding needed; `null` = an
 * encoding the proxy cannot read (the response is refused).
 */
export function createBodyDecoder(
  contentEncoding: string | string[] | undefined,
): Transform[] | undefined | null {
  const value = Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? '');
  const codings = value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  const { createBrotliDecompress, createGunzip, createInflate } = process.getBuiltinModule('node:zlib');
  const decoders: Transform[] = [];
  // codings are listed in the order they were applied, so they are undone last-first
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') decoders.push(createGunzip());
    else if (coding === 'deflate') decoders.push(createInflate());
    else if (coding === 'br') decoders.push(createBrotliDecompress());
    else return null;
  }
  return decoders;
}
