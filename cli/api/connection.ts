/**
 * Which Updraft API a command talks to, and how it proves who it is. In order:
 *
 * 1. `--url` (with `--token`, or `UPDRAFT_TOKEN`, or the local token file when the URL is local);
 * 2. `--profile NAME` (or `UPDRAFT_PROFILE`), else the config file's `defaultProfile`;
 * 3. the local stack `npm start` runs: `http://127.0.0.1:3000` (or the URL `updraft dev` wrote to
 *    `.updraft/dev/api-url`) with the token in `.updraft/dev/api-token`.
 *
 * The config file is `$UPDRAFT_CONFIG`, else `~/.updraft/config.json`:
 *
 * ```json
 * { "defaultProfile": "prod",
 *   "profiles": {
 *     "prod": { "url": "https://abc123.execute-api.eu-west-1.amazonaws.com", "auth": { "type": "iam" } },
 *     "staging": { "url": "https://updraft.example.com", "auth": { "type": "jwt", "tokenEnv": "UPDRAFT_JWT" } } } }
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT, zodLine } from '../errors.ts';

const Secret = {
  token: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  tokenEnv: z.string().min(1).optional(),
};

const Auth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('token'), ...Secret }).strict(),
  z.object({ type: z.literal('jwt'), ...Secret }).strict(),
  z
    .object({
      type: z.literal('iam'),
      /** @default the region in the URL, else AWS_REGION */
      region: z.string().min(1).optional(),
      /** A profile of ~/.aws/config; @default AWS_PROFILE or the default chain */
      awsProfile: z.string().min(1).optional(),
      /** What the credentials sign for: `execute-api` (API Gateway) or `lambda` (a function URL). @default from the URL */
      service: z.string().min(1).optional(),
    })
    .strict(),
]);

const Profile = z.object({ url: z.url(), auth: Auth }).strict();

const ConfigFile = z
  .object({ defaultProfile: z.string().optional(), profiles: z.record(z.string(), Profile) })
  .strict();

export type AuthSpec = z.infer<typeof Auth>;

export type Credentials =
  | { type: 'bearer'; token: string }
  | { type: 'iam'; region: string; service: string; awsProfile?: string }
  | { type: 'none' };

export interface Connection {
  /** The deployment's root URL (the API is under /api/v1), without a trailing slash. */
  url: string;
  credentials: Credentials;
  /** How it was chosen, for messages: `local`, `--url` or `profile NAME`. */
  source: string;
  /** The local stack: an unreachable API means `npm start` is not running. */
  local: boolean;
}

export interface ConnectionOptions {
  url?: string;
  profile?: string;
  token?: string;
}

const LOCAL_DATA = '.updraft/dev';
const LOCAL_URL = 'http://127.0.0.1:3000';

function configPath(env: NodeJS.ProcessEnv): string {
  return env.UPDRAFT_CONFIG || join(homedir(), '.updraft', 'config.json');
}

function readConfig(path: string): z.infer<typeof ConfigFile> | null {
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) throw new CliError(zodLine(parsed.error, path));
  return parsed.data;
}

/** The root URL: `/api/v1` and trailing slashes taken off, so both forms work. */
function rootUrl(raw: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`${flag} ${raw} is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`${flag} ${raw} must be an http or https URL`);
  return url
    .toString()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
}

const isLocalUrl = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(url);

function readLocalToken(): string | null {
  const file = resolve(LOCAL_DATA, 'api-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}

function secretOf(
  spec: { token?: string; tokenFile?: string; tokenEnv?: string },
  where: string,
  env: NodeJS.ProcessEnv,
) {
  if (spec.token) return spec.token;
  if (spec.tokenEnv) {
    const value = env[spec.tokenEnv]?.trim();
    if (!value) throw new CliError(`${where}: ${spec.tokenEnv} is not set`, EXIT.unreachable);
    return value;
  }
  if (spec.tokenFile) {
    const file = resolve(spec.tokenFile.replace(/^~(?=\/)/, homedir()));
    if (!existsSync(file))
      throw new CliError(`${where}: token file ${spec.tokenFile} does not exist`, EXIT.unreachable);
    return readFileSync(file, 'utf8').trim();
  }
  throw new CliError(`${where}: auth needs token, tokenFile or tokenEnv`);
}

/** Service and region for SigV4 from an AWS endpoint's host name, when it tells them. */
function awsEndpointOf(url: string): { service: string; region: string } | null {
  const host = new URL(url).hostname;
  const apiGateway = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  if (apiGateway) return { service: 'execute-api', region: apiGateway[1]! };
  const functionUrl = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(host);
  if (functionUrl) return { service: 'lambda', region: functionUrl[1]! };
  return null;
}

function credentialsOf(auth: AuthSpec, url: string, where: string, env: NodeJS.ProcessEnv): Credentials {
  switch (auth.type) {
    case 'token':
    case 'jwt':
      return { type: 'bearer', token: secretOf(auth, where, env) };
    case 'iam': {
      const fromUrl = awsEndpointOf(url);
      const region = auth.region ?? fromUrl?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
      if (!region) throw new CliError(`${where}: IAM auth needs a region (auth.region or AWS_REGION)`);
      return {
        type: 'iam',
        region,
        service: auth.service ?? fromUrl?.service ?? 'execute-api',
        ...(auth.awsProfile && { awsProfile: auth.awsProfile }),
      };
    }
  }
}

function resolveConnection(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const token = options.token ?? env.UPDRAFT_TOKEN?.trim();
  if (options.url) {
    const url = rootUrl(options.url, '--url');
    const local = isLocalUrl(url);
    const bearer = token ?? (local ? readLocalToken() : null);
    return {
      url,
      credentials: bearer ? { type: 'bearer', token: bearer } : { type: 'none' },
      source: '--url',
      local,
    };
  }
  const path = configPath(env);
  const config = readConfig(path);
  const name = options.profile ?? env.UPDRAFT_PROFILE ?? config?.defaultProfile;
  if (name) {
    const profile = config?.profiles[name];
    if (!profile) {
      const known = Object.keys(config?.profiles ?? {});
      throw new CliError(
        `no profile ${name} in ${path}${known.length ? ` (it has ${known.join(', ')})` : ''}: add it, or use --url`,
      );
    }
    const url = rootUrl(profile.url, `profile ${name}: url`);
    const where = `profile ${name} in ${path}`;
    const credentials: Credentials = token
      ? { type: 'bearer', token }
      : credentialsOf(profile.auth, url, where, env);
    return { url, credentials, source: `profile ${name}`, local: isLocalUrl(url) };
  }
  const urlFile = resolve(LOCAL_DATA, 'api-url');
  const url = existsSync(urlFile) ? rootUrl(readFileSync(urlFile, 'utf8').trim(), urlFile) : LOCAL_URL;
  const bearer = token ?? readLocalToken();
  return {
    url,
    credentials: bearer ? { type: 'bearer', token: bearer } : { type: 'none' },
    source: 'local',
    local: true,
  };
}

export { awsEndpointOf, configPath, resolveConnection, rootUrl };
