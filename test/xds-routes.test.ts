// lab/xds/xds-routes.ts on resources shaped as the lab's istiod serves them (protojson, trimmed from real dumps of
// Bookinfo's sidecars; test/e2e/istio-tasks.test.ts reads the live ones).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource, XdsDump } from '../lab/xds/xds.ts';
import { faultOf, inboundModes, percentOf, routesOf, virtualHost } from '../lab/xds/xds-routes.ts';

const reviews = 'reviews.bookinfo.svc.cluster.local';
const jason = { prefix: '/', caseSensitive: true, headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] };
const retry = { retryOn: 'connect-failure', numRetries: 2 };
const route = (match: Resource, action: Resource, extra: Resource = {}) => ({
  match,
  route: { timeout: '0s', ...action, retryPolicy: retry },
  ...extra,
});
const dumpWith = (routes: Resource[], host = `${reviews}:9080`): XdsDump => ({
  clusters: [],
  listeners: [],
  routes: [
    { name: '15010', virtualHosts: [] },
    {
      name: '9080',
      virtualHosts: [
        { name: 'ratings.bookinfo.svc.cluster.local:9080', routes: [] },
        { name: host, routes },
      ],
    },
  ],
});
const fault = (f: Resource) => ({
  typedPerFilterConfig: {
    'envoy.filters.http.fault': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', ...f },
  },
});
const million = { numerator: 1_000_000, denominator: 'MILLION' };

describe('xDS routes as values', () => {
  it('a header match to one subset, then the default route', () => {
    const d = dumpWith([
      route(jason, { cluster: `outbound|9080|v2|${reviews}` }),
      route({ prefix: '/' }, { cluster: `outbound|9080|v1|${reviews}` }),
    ]);
    assert.deepEqual(routesOf(d, '9080', `${reviews}:9080`), [
      { match: 'prefix / & end-user exact jason', to: { [`outbound|9080|v2|${reviews}`]: 100 } },
      { match: 'prefix /', to: { [`outbound|9080|v1|${reviews}`]: 100 } },
    ]);
  });

  it('weighted clusters keep their weights', () => {
    const weighted = {
      weightedClusters: {
        clusters: [
          { name: `outbound|9080|v1|${reviews}`, weight: 50 },
          { name: `outbound|9080|v3|${reviews}`, weight: 50 },
        ],
      },
    };
    assert.deepEqual(routesOf(dumpWith([route({ prefix: '/' }, weighted)]), '9080', `${reviews}:9080`), [
      { match: 'prefix /', to: { [`outbound|9080|v1|${reviews}`]: 50, [`outbound|9080|v3|${reviews}`]: 50 } },
    ]);
  });

  it('faults: delay and abort, percentages from any denominator (HUNDRED is omitted in protojson)', () => {
    assert.deepEqual(faultOf(fault({ delay: { fixedDelay: '7s', percentage: million } })), {
      delay: { fixedDelay: '7s', percent: 100 },
    });
    assert.deepEqual(faultOf(fault({ abort: { httpStatus: 500, percentage: million } })), {
      abort: { httpStatus: 500, percent: 100 },
    });
    assert.equal(faultOf({ match: { prefix: '/' } }), undefined);
    assert.equal(percentOf({ numerator: 50 }), 50);
    assert.equal(percentOf({ numerator: 2500, denominator: 'TEN_THOUSAND' }), 25);
    assert.equal(percentOf(undefined), 0);
    assert.throws(() => percentOf({ numerator: 1, denominator: 'BILLION' }), /unknown FractionalPercent denominator BILLION/);
    const d = dumpWith(
      [route(jason, { cluster: 'outbound|9080|v1|ratings' }, fault({ abort: { httpStatus: 500, percentage: million } }))],
      'ratings:9080',
    );
    assert.deepEqual(routesOf(d, '9080', 'ratings:9080')[0].fault, { abort: { httpStatus: 500, percent: 100 } });
  });

  it('a missing route configuration or virtual host names what is served', () => {
    const d = dumpWith([]);
    assert.throws(() => virtualHost(d, '80', 'x'), /no route configuration 80 \(served: 15010, 9080\)/);
    assert.throws(() => virtualHost(d, '9080', 'details:9080'), /no virtual host details:9080 in 9080 \(served: ratings\./);
  });

  it('inbound modes: STRICT is mutual TLS only, PERMISSIVE adds plaintext; other ports do not count', () => {
    const tls = (require: boolean) => ({
      name: 'envoy.transport_sockets.tls',
      typedConfig: { '@type': 'DownstreamTlsContext', requireClientCertificate: require },
    });
    const chain = (port: number, protocol: string, socket?: Resource) => ({
      name: `0.0.0.0_${port}`,
      filterChainMatch: { destinationPort: port, transportProtocol: protocol },
      ...(socket ? { transportSocket: socket } : {}),
    });
    const listener = (...chains: Resource[]): XdsDump => ({
      clusters: [],
      routes: [],
      listeners: [{ name: '0.0.0.0_9080' }, { name: 'virtualInbound', filterChains: [{ filterChainMatch: {} }, ...chains] }],
    });
    assert.deepEqual(inboundModes(listener(chain(9080, 'tls', tls(true)), chain(15006, 'raw_buffer')), 9080), ['mutual TLS']);
    assert.deepEqual(inboundModes(listener(chain(9080, 'raw_buffer'), chain(9080, 'tls', tls(true))), 9080), [
      'mutual TLS',
      'plaintext',
    ]);
    assert.deepEqual(inboundModes(listener(chain(9080, 'tls', tls(false)), chain(9080, 'tls')), 9080), [
      'TLS',
      'TLS passthrough',
    ]);
    assert.deepEqual(inboundModes(listener(), 9080), []);
    assert.throws(
      () => inboundModes({ clusters: [], routes: [], listeners: [{ name: 'x' }] }, 9080),
      /no virtualInbound listener/,
    );
  });
});
