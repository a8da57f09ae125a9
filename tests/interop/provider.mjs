// An OpenID Connect provider built on oidc-provider (OpenID Certified), for the festival's
// interop test: the festival must log visitors in through it unchanged, configured only with
// its issuer URL, a client id and a secret.
//
// Run with `node tests/interop/provider.mjs` after `npm ci --prefix tests/interop`. It reads:
//
//   PROVIDER_PORT          port on 127.0.0.1 to listen on (required)
//   FESTIVAL_REDIRECT_URI  the festival callback registered for the client (required)
//   CLIENT_ID              default "festival"
//   CLIENT_SECRET          default "festival-interop-secret"
//
// It prints "oidc-provider listening on http://127.0.0.1:PORT" once it accepts connections.
//
// Logins use oidc-provider's development interactions: the login form takes any account id
// (`login`) and any password. Accounts whose id starts with "gold-" hold a gold ticket, every
// other account a green one. Test use only: the signing keys are oidc-provider's built-in
// development keys and the cookie key is a constant.

import Provider from 'oidc-provider';

const port = Number.parseInt(process.env.PROVIDER_PORT ?? '', 10);
const redirectUri = process.env.FESTIVAL_REDIRECT_URI;
if (!Number.isInteger(port) || port <= 0 || !redirectUri) {
  console.error('set PROVIDER_PORT and FESTIVAL_REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const configuration = {
  clients: [
    {
      client_id: process.env.CLIENT_ID ?? 'festival',
      client_secret: process.env.CLIENT_SECRET ?? 'festival-interop-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // PKCE for every client, not only public ones (RFC 9700 §2.1.1); oidc-provider accepts S256
  // only.
  pkce: { required: () => true },
  // Scopes name the claims they release; `ticket` is the festival's own.
  claims: {
    openid: ['sub'],
    profile: ['name'],
    ticket: ['ticket'],
  },
  // Put the scope's claims in the ID token itself (the festival reads the ticket colour from
  // it), not only at the userinfo endpoint.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
  },
  cookies: { keys: ['wristband-interop-test-only'] },
  async findAccount(_ctx, accountId) {
    return {
      accountId,
      async claims() {
        return {
          sub: accountId,
          name: accountId,
          ticket: accountId.startsWith('gold-') ? 'gold' : 'green',
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (_ctx, error) => console.error('server_error', error));
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
