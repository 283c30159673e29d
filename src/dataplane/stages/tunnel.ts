/**
 * Tunnel stages (terminal of the upgrade entries): hand the caller's socket to the
 * WebSocket proxy once every earlier stage has let the handshake through, and answer
 * 101 to say the socket is taken. On a hop, the tunnel goes where the split chose (mTLS
 * to the inbound listener, or the app's port with `mtls: off`); on an inbound listener,
 * to the instance's own port.
 */
import type { EntryContext } from '../entry-context.js';
import { errorOutcome } from '../error-outcome.js';
import { rawMeshError, type ErrorContext } from '../errors.js';
import { SWITCHING_PROTOCOLS, type HopContext, type Outcome, type Stage } from '../pipeline.js';
import { proxyUpgrade, type UpgradeTarget } from '../ws-proxy.js';
import type { AppAddresses, LoopbackHost } from '../loopback.js';
import type { InstancePort } from './forward.js';
import type { HopTlsSource } from './upstream.js';

const TUNNELED: Outcome = {
  kind: 'response',
  status: SWITCHING_PROTOCOLS,
  headers: {},
  body: null,
};

/**
 * Where a plain tunnel to an app's `port` goes: the address its calls found (127.0.0.1,
 * or ::1 for a dev server bound there), found now if no call has yet.
 */
function withHost(
  addresses: AppAddresses | undefined,
  port: number,
  open: (host: LoopbackHost) => void,
): Promise<Outcome> {
  const known = addresses ? addresses.get(port) : '127.0.0.1';
  if (known !== undefined) {
    open(known);
    return Promise.resolve(TUNNELED);
  }
  return addresses!.find(port).then((host) => {
    open(host);
    return TUNNELED;
  });
}

/** The hop's tunnel, to the chosen instance. */
export function tunnelStage(
  tlsFor: HopTlsSource = () => undefined,
  addresses?: AppAddresses,
): Stage<HopContext> {
  return {
    name: 'tunnel',
    handle(ctx) {
      const target = ctx.service.target(ctx.version!);
      if (!target || !ctx.upgrade) {
        ctx.flags.add('UF');
        return Promise.resolve(
          errorOutcome('upstream_unreachable', {
            service: ctx.service.name,
            version: ctx.version,
            detail: 'no listener for this instance',
          }),
        );
      }
      const tls = target.direct ? undefined : tlsFor(ctx.caller, ctx.service.name);
      ctx.security = tls ? 'mutual_tls' : 'none';
      ctx.attempts = 1;
      const { req, socket, head, answerHeaders } = ctx.upgrade;
      const open = (host?: LoopbackHost) => {
        ctx.tunnel = proxyUpgrade(req, socket, head, {
          port: target.port,
          host,
          path: ctx.path,
          headers: ctx.headers,
          answerHeaders,
          tls,
          refusal: refusalOf(
            { service: ctx.service.name, version: ctx.version, port: target.port },
            answerHeaders,
          ),
        });
      };
      // mTLS goes to a mesh listener (127.0.0.1); `mtls: off` straight to the app.
      if (tls) {
        open();
        return Promise.resolve(TUNNELED);
      }
      return withHost(addresses, target.port, open);
    },
  };
}

/** The inbound listener's tunnel, to the instance's own port. */
export function inboundTunnelStage(settings: {
  service: string;
  version: string;
  appPort: InstancePort;
  addresses?: AppAddresses;
}): Stage<EntryContext> {
  return {
    name: 'tunnel',
    handle(ctx) {
      const port = settings.appPort();
      if (port === undefined || !ctx.upgrade) {
        return Promise.resolve(
          errorOutcome('upstream_unreachable', {
            service: settings.service,
            version: settings.version,
            detail: 'instance has no port',
          }),
        );
      }
      const { socket, head } = ctx.upgrade;
      return withHost(settings.addresses, port, (host) =>
        proxyUpgrade(ctx.req, socket, head, {
          port,
          host,
          path: ctx.path,
          headers: ctx.headers,
          answerHeaders: ctx.answerHeaders,
          refusal: refusalOf(
            { service: settings.service, version: settings.version, port },
            ctx.answerHeaders,
          ),
        }),
      );
    },
  };
}

/**
 * What a tunnel to `instance` answers when it fails before the upstream answered, with
 * the entry's answer headers.
 */
function refusalOf(
  instance: ErrorContext,
  answerHeaders?: Readonly<Record<string, string>>,
): UpgradeTarget['refusal'] {
  return (failure, detail) =>
    failure === 'connect-failure'
      ? rawMeshError('upstream_unreachable', { ...instance, detail }, answerHeaders)
      : rawMeshError('upstream_reset', instance, answerHeaders);
}
