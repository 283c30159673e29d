/**
 * The API edge of one config: who the consumers are and how they prove it (API keys in a
 * `KeyRing`, JWTs through a `JwtVerifier`), built once per config and looked up by it, so
 * a hot reload that changes keys or consumers takes effect on the next request.
 */
import type { ConsumerConfig, GatewayRoute, MeshConfig, AuthRequire } from '../config/model.js';
import { JwtVerifier } from './jwt-verifier.js';
import { KeyRing, type KeyOwner } from './key-ring.js';
import type { LocalIssuer } from './local-issuer.js';

/** An API key carries no scopes (scopes come with a JWT). */
const NO_SCOPES: readonly string[] = Object.freeze([]);

/** A caller the edge recognized. */
export interface Consumer {
  name: string;
  /** Names the credential without revealing it: `alice-key-1`, or the JWT's issuer. */
  credential: string;
  kind: 'apiKey' | 'jwt';
  scopes: readonly string[];
  groups: readonly string[];
  plan?: string;
}

/** Keys and tokens of one config. */
export class ApiEdge {
  readonly keys: KeyRing;
  readonly jwt?: JwtVerifier;
  private readonly byName: Map<string, ConsumerConfig>;
  private readonly bySubject: Map<string, ConsumerConfig>;
  private readonly byKey = new Map<KeyOwner, Consumer>();

  constructor(
    readonly config: MeshConfig,
    local: LocalIssuer | undefined,
  ) {
    this.keys = new KeyRing(config.consumers);
    this.byName = new Map(config.consumers.map((c) => [c.name, c]));
    this.bySubject = new Map(config.consumers.map((c) => [c.jwtSubject, c]));
    const jwt = config.gateway?.auth.jwt;
    if (jwt) this.jwt = new JwtVerifier(jwt, local, jwt.audience ?? localAudience(config));
  }

  /** The consumer named `name`. */
  consumer(name: string): ConsumerConfig | undefined {
    return this.byName.get(name);
  }

  /** The consumer an API key's owner is (one object per key and config, never changed). */
  keyConsumer(owner: KeyOwner): Consumer {
    let consumer = this.byKey.get(owner);
    if (!consumer) {
      const config = this.byName.get(owner.consumer)!;
      consumer = Object.freeze({
        name: owner.consumer,
        credential: owner.credential,
        kind: 'apiKey',
        scopes: NO_SCOPES,
        groups: config.groups,
        plan: config.plan,
      });
      this.byKey.set(owner, consumer);
    }
    return consumer;
  }

  /** The consumer a JWT claim value names. */
  consumerBySubject(subject: string): ConsumerConfig | undefined {
    return this.bySubject.get(subject);
  }

  /** What a route requires: its own `auth.require`, else the gateway's. */
  requirement(route: GatewayRoute | undefined): AuthRequire {
    return route?.auth?.require ?? this.config.gateway?.auth.require ?? 'none';
  }
}

/** The audience of local tokens when `gateway.auth.jwt.audience` is not set. */
export function localAudience(config: Pick<MeshConfig, 'mesh'>): string {
  return `urn:meshdev:${config.mesh.name}:gateway`;
}

const edges = new WeakMap<MeshConfig, ApiEdge>();

/** The edge of `config`, built on first use. */
export function edgeFor(config: MeshConfig, local: LocalIssuer | undefined): ApiEdge {
  let edge = edges.get(config);
  if (!edge) {
    edge = new ApiEdge(config, local);
    edges.set(config, edge);
  }
  return edge;
}
