import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { quoteFlowReferences } from './flow-references.js';
import { loadConfigText } from './load.js';

describe('${VAR} inside flow collections', () => {
  it('quotes whole-value references in { } and [ ] in place, keeping every offset', () => {
    const text =
      'a: { port: ${P}, b: [${X:-1}, y] }\nc: ${Q}\nd: { u: "${R}", v: http://h:${S} }\n';
    const { text: quoted, rewritten } = quoteFlowReferences(text);
    expect(quoted).toBe(
      'a: { port: "$P", b: ["$X:-1", y] }\nc: ${Q}\nd: { u: "${R}", v: http://h:${S} }\n',
    );
    expect(quoted.length).toBe(text.length);
    expect([...rewritten.values()]).toEqual(['${P}', '${X:-1}']);
  });

  it('leaves comments and quoted text alone', () => {
    const text = "a: { b: 'it''s ${P}' } # { c: ${Q} }\n";
    expect(quoteFlowReferences(text).text).toBe(text);
  });

  it('loads `admin: { port: ${ADMIN_PORT} }` as a number, and keeps later columns exact', () => {
    const yaml = `version: 1
mesh: { name: flow, admin: { port: \${ADMIN_PORT} }, ports: { from: \${FROM:-0} } }
services:
  api: { port: \${API_PORT}, bogus: 1 }
`;
    let error: ConfigError | undefined;
    try {
      loadConfigText(yaml, 'flow.yaml', { env: { ADMIN_PORT: '15001', API_PORT: '3000' } });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error?.issues.map((issue) => `${issue.line}:${issue.column} ${issue.path}`)).toEqual([
      '4:29 services.api.bogus',
    ]);
    const config = loadConfigText(yaml.replace(', bogus: 1', ''), 'flow.yaml', {
      env: { ADMIN_PORT: '15001', API_PORT: '3000' },
    });
    expect(config.mesh.adminPort).toBe(15001);
    expect(config.mesh.portsFrom).toBe(0);
    expect(config.services[0]!.instances[0]!.port).toBe(3000);
  });
});
