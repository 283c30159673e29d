/**
 * Cross-field rules of the API edge: consumers name plans that exist, keys are unique,
 * access lists name consumers that exist, JWT settings exist when a route requires a
 * token, a JWKS URL stays on loopback, and `as:` names a consumer with a key.
 */
import type { RawConfig } from './schema.js';
import type { Report } from './rules.js';
import { suggest } from './zod-issues.js';
import { isLoopbackUrl } from '../lib/loopback.js';

/** Checks consumers, plans, gateway auth and every `as:`. */
export function checkAuth(config: RawConfig, report: Report): void {
  const plans = Object.keys(config.plans);
  const consumers = Object.keys(config.consumers);
  const unknown = (kind: string, name: string, known: string[]) => {
    const guess = suggest(name, known);
    return `unknown ${kind} "${name}"${guess ? ` — did you mean "${guess}"?` : ''}`;
  };
  const owners = new Map<string, string>();
  for (const [name, consumer] of Object.entries(config.consumers)) {
    const at = ['consumers', name];
    if (consumer.plan !== undefined && !plans.includes(consumer.plan)) {
      report(
        [...at, 'plan'],
        unknown('plan', consumer.plan, plans),
        `plans defined: ${plans.join(', ') || '(none)'}`,
      );
    }
    consumer.keys.forEach((key, i) => {
      const owner = owners.get(key);
      if (owner)
        report([...at, 'keys', i], `this key is also ${owner}'s: a key names one consumer`);
      owners.set(key, name);
    });
  }
  const auth = config.gateway?.auth;
  const requires = [auth?.require, ...(config.gateway?.routes ?? []).map((r) => r.auth?.require)];
  if (auth && !auth.jwt && requires.some((r) => r === 'jwt')) {
    report(
      ['gateway', 'auth'],
      'a route requires a JWT, but gateway.auth.jwt is not set',
      "add jwt: { local: true } for meshdev's own dev issuer, or { issuer, audience, jwks }",
    );
  }
  const jwt = auth?.jwt;
  if (jwt && !jwt.local && !jwt.jwks) {
    report(
      ['gateway', 'auth', 'jwt'],
      'JWT verification needs keys: `jwks` (a file or loopback URL) or `local: true`',
    );
  }
  if (jwt?.jwks && /^https?:\/\//.test(jwt.jwks) && !isLoopbackUrl(jwt.jwks)) {
    report(
      ['gateway', 'auth', 'jwt', 'jwks'],
      'a JWKS URL must be on loopback (127.0.0.1, localhost, [::1])',
      'save the JWKS to a file and point jwks at it',
    );
  }
  config.gateway?.routes.forEach((route, i) => {
    route.auth?.consumers?.forEach((name, j) => {
      if (!consumers.includes(name))
        report(
          ['gateway', 'routes', i, 'auth', 'consumers', j],
          unknown('consumer', name, consumers),
        );
    });
    if (route.auth?.scopes && !jwt) {
      report(
        ['gateway', 'routes', i, 'auth', 'scopes'],
        'scopes are read from a JWT, but gateway.auth.jwt is not set',
      );
    }
  });
  for (const [name, service] of Object.entries(config.services)) {
    service.auth?.consumers?.forEach((consumer, j) => {
      if (!consumers.includes(consumer))
        report(
          ['services', name, 'auth', 'consumers', j],
          unknown('consumer', consumer, consumers),
        );
    });
    if ((service.auth?.require === 'jwt' || service.auth?.scopes) && !jwt) {
      report(
        ['services', name, 'auth'],
        'tokens are verified with gateway.auth.jwt, which is not set',
        "add gateway.auth.jwt: { local: true } (or your issuer's settings)",
      );
    }
  }
  const checkAs = (path: PropertyKey[], name: string | undefined) => {
    if (name === undefined) return;
    const consumer = config.consumers[name];
    if (!consumer)
      report(
        path,
        unknown('consumer', name, consumers),
        `consumers defined: ${consumers.join(', ') || '(none)'}`,
      );
    else if (consumer.keys.length === 0)
      report(path, `consumer "${name}" has no API key to send`, 'give it keys: ["${NAME_KEY}"]');
  };
  config.load.forEach((load, i) => checkAs(['load', i, 'as'], load.as));
  config.checks.forEach((check, i) => {
    check.requests.forEach((request, j) => checkAs(['checks', i, 'requests', j, 'as'], request.as));
    checkAs(['checks', i, 'load', 'as'], check.load?.as);
    checkAs(['checks', i, 'explore', 'as'], check.explore?.as);
  });
}
