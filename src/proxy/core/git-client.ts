import type { ErrorAnswer } from './answer.js';
import type { ReplyPort } from './reply-port.js';

/** git's own User-Agent, `git/2.39.5` (its HTTP transport sends it on every request). */
const GIT_AGENT = /^git\//;

/**
 * The answer as text: git prints a refused request's body (as `remote: …` lines, before its
 * own `fatal:`) only when it is `text/plain`, so the reason reaches the person at the terminal.
 */
export function plainTextAnswer(answer: ErrorAnswer): ErrorAnswer {
  const { error } = JSON.parse(answer.body) as { error: { type: string; message: string } };
  const body = `airlock: ${error.type}: ${error.message}\n`;
  const headers = {
    ...answer.headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  return { status: answer.status, headers, body };
}

/** The port a git client is answered through: airlock's refusals in text, the rest unchanged. */
export function forGitClient(port: ReplyPort, userAgent: string | undefined): ReplyPort {
  if (userAgent === undefined || !GIT_AGENT.test(userAgent)) return port;
  return {
    kind: port.kind,
    body: port.body,
    fail: (answer) => port.fail(plainTextAnswer(answer)),
    begin: (status, headers) => port.begin(status, headers),
    onClose: (fn) => port.onClose(fn),
  };
}
