// A real OpenID provider on loopback for the social login end-to-end tests (issue 15):
// oidc-provider, certified by the OpenID Foundation, with one confidential client and PKCE
// (S256) required. Started by tests/e2e/test_oauth_oidc_provider.py as
//
//   node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
//
// It prints "ready" once it listens. There is no login page: the interaction step signs in the
// person set beforehand with POST /_test/next {sub, email, email_verified, name} (or refuses,
// with {deny: true}), so the tests drive the code flow without a browser. Everything else
// (authorization, token, userinfo, discovery, JWKS, ID tokens with the nonce) is the library's.
import { generateKeyPairSync } from 'node:crypto';

import { Provider } from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const accounts = new Map();
let next = { deny: true };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['ticketon-e2e-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const person = accounts.get(id);
    if (!person) return undefined;
    return { accountId: id, async claims() { return { ...person }; } };
  },
});
// Plain http on loopback: the issuer is http://127.0.0.1, which the library allows.
provider.proxy = false;

provider.use(async (ctx, nextMiddleware) => {
  if (ctx.method === 'POST' && ctx.path === '/_test/next') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    next = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    if (next.sub) accounts.set(next.sub, { sub: next.sub, email: next.email,
      email_verified: next.email_verified, name: next.name });
    ctx.status = 204;
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (ctx.method !== 'GET' || !match) return nextMiddleware();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (next.deny) {
    result = { error: 'access_denied', error_description: 'the person refused' };
  } else {
    const grant = new provider.Grant({ accountId: next.sub, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    result = { login: { accountId: next.sub }, consent: { grantId: await grant.save() } };
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result,
    { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
