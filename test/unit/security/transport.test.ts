import { parseConnectorConfig, transportWarnings } from '../../../pipeline/config';
import { goodConfig, sources } from '../config/helpers';

/** Plaintext credentials and switched-off certificate checks are said at every start, field by field. */
const warnings = (over: Record<string, unknown>, env: Record<string, string> = {}) =>
  transportWarnings(parseConnectorConfig(goodConfig(over), sources()), env);

describe('transport warnings', () => {
  it('none for a config with TLS everywhere (or nothing secret on the wire)', () => {
    expect(
      warnings({
        kafka: {
          brokers: ['k:9093'],
          tls: true,
          sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'kafka-pass-1' },
        },
        registry: { url: 'https://registry.example.com', username: 'u', password: 'reg-pass-1' },
        database: { url: 'postgres://u:db-pass-1@db.example.com/n?sslmode=verify-full' },
      }),
    ).toEqual([]);
    expect(warnings({})).toEqual([]);
  });

  it('SASL without TLS', () => {
    const w = warnings({
      kafka: { brokers: ['k:9092'], sasl: { mechanism: 'plain', username: 'u', password: 'kafka-pass-1' } },
    });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/kafka\.sasl.*kafka\.tls/);
  });

  it('registry basic auth over http', () => {
    const w = warnings({
      registry: { url: 'http://registry.example.com:8081', username: 'u', password: 'reg-pass-1' },
    });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/registry\.password.*https/);
  });

  it('a database password without sslmode, or with sslmode disable; no-verify', () => {
    for (const q of ['', '?sslmode=disable']) {
      const w = warnings({ database: { url: `postgres://u:db-pass-1@db.example.com/n${q}` } });
      expect(w).toHaveLength(1);
      expect(w[0]).toMatch(/database\.url.*sslmode/);
    }
    const nv = warnings({ database: { url: 'postgres://u:db-pass-1@db.example.com/n?sslmode=no-verify' } });
    expect(nv.join('\n')).toMatch(/certificate/);
  });

  it('loopback is not a network: no warning for 127.0.0.1 or localhost', () => {
    expect(
      warnings({
        registry: { url: 'http://127.0.0.1:8081', username: 'u', password: 'reg-pass-1' },
        database: { url: 'postgres://u:db-pass-1@localhost/n' },
      }),
    ).toEqual([]);
  });

  it('certificate verification off: Kafka rejectUnauthorized false, NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
    const k = warnings({ kafka: { brokers: ['k:9093'], tls: { rejectUnauthorized: false } } });
    expect(k).toHaveLength(1);
    expect(k[0]).toMatch(/kafka\.tls\.rejectUnauthorized/);
    const n = warnings({}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    expect(n).toHaveLength(1);
    expect(n[0]).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED/);
  });

  it('never contains a secret', () => {
    const w = warnings({
      kafka: { brokers: ['k:9092'], sasl: { mechanism: 'plain', username: 'u', password: 'kafka-pass-1' } },
      registry: { url: 'http://registry.example.com:8081', username: 'u', password: 'reg-pass-1' },
      database: { url: 'postgres://u:db-pass-1@db.example.com/n' },
    });
    expect(w).toHaveLength(3);
    for (const s of ['kafka-pass-1', 'reg-pass-1', 'db-pass-1']) expect(w.join('\n')).not.toContain(s);
  });
});
