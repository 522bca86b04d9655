import type { Service } from './service.js';

const bearer = { kind: 'header', header: 'authorization', template: 'Bearer {secret}' } as const;
const AUTH_HEADERS = ['authorization', 'proxy-authorization'];

/**
 * An OpenAI-compatible Bearer-token LLM provider (the common case). `baseUrlSuffix` is what
 * the provider's SDK expects at the end of its `<NAME>_BASE_URL` (verified for Groq: none,
 * the SDK appends `/openai/v1/…`; Together: `/v1`, its SDK's default base is `…/v1`).
 */
function openAiCompatible(
  name: string,
  title: string,
  envVar: string,
  host: string,
  basePath: string,
  baseUrlSuffix?: string,
): Service {
  return {
    name,
    title,
    envVar,
    aliases: [],
    upstream: `https://${host}${basePath}`,
    hosts: [host],
    carrier: bearer,
    credentialHeaders: AUTH_HEADERS,
    credentialParams: [],
    baseUrlVariables: [
      {
        name: `${envVar.replace(/_API_KEY$/, '')}_BASE_URL`,
        ...(baseUrlSuffix ? { suffix: baseUrlSuffix } : {}),
      },
    ],
    placeholderPrefix: 'sk-airlock-',
    placeholderLength: 40,
    llm: true,
    usageFormat: 'openai',
  };
}

/** The seed's five services, then the common Bearer-token LLM providers. */
export const BUILTIN_SERVICES: readonly Service[] = [
  {
    name: 'openai',
    title: 'OpenAI',
    envVar: 'OPENAI_API_KEY',
    aliases: [],
    upstream: 'https://api.openai.com',
    hosts: ['api.openai.com'],
    carrier: bearer,
    credentialHeaders: AUTH_HEADERS,
    credentialParams: [],
    // the openai SDKs expect the base URL to include /v1
    baseUrlVariables: [{ name: 'OPENAI_BASE_URL', suffix: '/v1' }],
    placeholderPrefix: 'sk-airlock-',
    placeholderLength: 48,
    llm: true,
    usageFormat: 'openai',
  },
  {
    name: 'anthropic',
    title: 'Anthropic',
    envVar: 'ANTHROPIC_API_KEY',
    aliases: [],
    upstream: 'https://api.anthropic.com',
    hosts: ['api.anthropic.com'],
    carrier: { kind: 'header', header: 'x-api-key', template: '{secret}' },
    credentialHeaders: ['x-api-key', ...AUTH_HEADERS],
    credentialParams: [],
    // the anthropic SDKs append /v1 themselves; @anthropic-ai/sdk 1.x sends the key as
    // `Authorization: Bearer`, so both headers are credential headers (x-api-key is injected)
    baseUrlVariables: [{ name: 'ANTHROPIC_BASE_URL' }],
    placeholderPrefix: 'sk-ant-airlock-',
    placeholderLength: 64,
    llm: true,
    usageFormat: 'anthropic',
  },
  {
    name: 'google',
    title: 'Google Gemini',
    envVar: 'GOOGLE_API_KEY',
    aliases: ['GEMINI_API_KEY'],
    upstream: 'https://generativelanguage.googleapis.com',
    hosts: ['generativelanguage.googleapis.com'],
    carrier: { kind: 'header', header: 'x-goog-api-key', template: '{secret}' },
    credentialHeaders: ['x-goog-api-key', ...AUTH_HEADERS],
    credentialParams: ['key'],
    // @google/genai reads GOOGLE_GEMINI_BASE_URL (no version: it appends /v1beta/…) and sends
    // the key in x-goog-api-key; with both GOOGLE_API_KEY and GEMINI_API_KEY set it warns and
    // uses GOOGLE_API_KEY (same placeholder, so harmless)
    baseUrlVariables: [{ name: 'GOOGLE_GEMINI_BASE_URL' }],
    placeholderPrefix: 'AIza',
    placeholderLength: 35,
    llm: true,
    usageFormat: 'google',
  },
  {
    name: 'github',
    title: 'GitHub',
    envVar: 'GITHUB_TOKEN',
    aliases: ['GH_TOKEN'],
    upstream: 'https://api.github.com',
    hosts: ['api.github.com'],
    carrier: bearer,
    credentialHeaders: AUTH_HEADERS,
    credentialParams: ['access_token'],
    // @octokit/rest reads no environment; GITHUB_API_URL is the GitHub Actions convention
    // scripts pass as `baseUrl`. Octokit sends `token …`, replaced by the Bearer form
    baseUrlVariables: [{ name: 'GITHUB_API_URL' }],
    placeholderPrefix: 'ghp_',
    placeholderLength: 36,
    llm: false,
  },
  {
    // git smart HTTP with the GitHub token: the guest's git is pointed here by insteadOf
    // (GIT_CONFIG_*), so no CA is needed; github.com takes the token as Basic x-access-token
    // (as actions/checkout sends it), never as Bearer
    name: 'github-git',
    title: 'GitHub (git over HTTPS)',
    envVar: 'GITHUB_TOKEN',
    aliases: ['GH_TOKEN'],
    upstream: 'https://github.com',
    hosts: ['github.com'],
    carrier: { kind: 'basic', username: 'x-access-token' },
    credentialHeaders: AUTH_HEADERS,
    credentialParams: [],
    baseUrlVariables: [],
    placeholderPrefix: 'ghp_',
    placeholderLength: 36,
    llm: false,
    credentialOf: 'github',
    gitUrls: ['https://github.com/', 'git@github.com:', 'ssh://git@github.com/'],
  },
  {
    name: 'huggingface',
    title: 'Hugging Face',
    envVar: 'HUGGINGFACE_TOKEN',
    aliases: ['HF_TOKEN'],
    upstream: 'https://router.huggingface.co',
    // huggingface.co: the hub's API and downloads (huggingface_hub, huggingface-cli), reached
    // through an intercepted CONNECT with the token injected
    hosts: ['router.huggingface.co', 'api-inference.huggingface.co', 'huggingface.co'],
    carrier: bearer,
    credentialHeaders: AUTH_HEADERS,
    credentialParams: [],
    // @huggingface/inference reads no environment and calls router.huggingface.co; scripts
    // pass `endpointUrl: \`${HF_INFERENCE_ENDPOINT}/v1\`` (the huggingface_hub convention)
    baseUrlVariables: [{ name: 'HF_INFERENCE_ENDPOINT' }],
    placeholderPrefix: 'hf_',
    placeholderLength: 34,
    llm: true,
    usageFormat: 'openai',
  },
  openAiCompatible('mistral', 'Mistral', 'MISTRAL_API_KEY', 'api.mistral.ai', ''),
  openAiCompatible('groq', 'Groq', 'GROQ_API_KEY', 'api.groq.com', ''),
  openAiCompatible('openrouter', 'OpenRouter', 'OPENROUTER_API_KEY', 'openrouter.ai', ''),
  openAiCompatible('xai', 'xAI', 'XAI_API_KEY', 'api.x.ai', ''),
  openAiCompatible('deepseek', 'DeepSeek', 'DEEPSEEK_API_KEY', 'api.deepseek.com', ''),
  openAiCompatible('together', 'Together AI', 'TOGETHER_API_KEY', 'api.together.xyz', '', '/v1'),
];
