// A real OpenID provider (the certified `oidc-provider`) standing in for Google in tests.
// Usage: node provider.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI EMAIL EMAIL_VERIFIED(true|false)
// Prints one JSON line {"issuer": "..."} once listening on a loopback port; every interaction is
// answered at once by signing in the single account and granting the requested scopes.
import http from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri, email, verified] = process.argv.slice(2);
const account = {
  accountId: 'google-subject-1234',
  async claims() {
    return { sub: 'google-subject-1234', email, email_verified: verified === 'true', name: 'Ada Google' };
  },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Google: the ID token carries the email claims.
    conformIdTokenClaims: false,
    findAccount: async () => account,
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
  });
  provider.proxy = false;
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: account.accountId, clientId });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res,
        { login: { accountId: account.accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  console.log(JSON.stringify({ issuer }));
});
