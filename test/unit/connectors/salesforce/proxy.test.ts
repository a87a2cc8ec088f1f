import { noProxyMatches, proxyRoute, shownProxy } from '../../../../connectors/salesforce/proxy';

describe('NO_PROXY matching', () => {
  it.each([
    ['acme.my.salesforce.com', '443', 'salesforce.com', true],
    ['acme.my.salesforce.com', '443', '.salesforce.com', true],
    ['acme.my.salesforce.com', '443', '*.salesforce.com', true],
    ['salesforce.com', '443', '.salesforce.com', true],
    ['notsalesforce.com', '443', 'salesforce.com', false],
    ['login.salesforce.com', '443', 'example.com, login.salesforce.com:443', true],
    ['login.salesforce.com', '443', 'login.salesforce.com:8443', false],
    ['127.0.0.1', '4000', '127.0.0.1', true],
    ['anything', '80', '*', true],
    ['anything', '80', '', false],
  ])('%s:%s with NO_PROXY=%j → %s', (host, port, list, expected) => {
    expect(noProxyMatches(host, port, list)).toBe(expected);
  });

  it('the config option wins over the environment; credentials go in the URL, never in what is shown', () => {
    const r = proxyRoute(
      { url: 'http://proxy:3128', username: 'svc', password: 'p@ss:word' },
      { HTTPS_PROXY: 'http://other:8080', NO_PROXY: '.internal' },
    );
    const url = r.forUrl('https://acme.my.salesforce.com/services/data')!;
    expect(new URL(url).host).toBe('proxy:3128');
    expect(decodeURIComponent(new URL(url).password)).toBe('p@ss:word');
    expect(shownProxy(url)).toBe('http://proxy:3128');
    expect(r.forUrl('https://sf.internal/x')).toBeNull();
    expect(r.secrets).toContain('p@ss:word');
  });

  it('from the environment: HTTPS_PROXY for https targets, HTTP_PROXY for http ones', () => {
    const r = proxyRoute(undefined, { https_proxy: 'http://a:1', HTTP_PROXY: 'http://b:2' });
    expect(r.forUrl('https://login.salesforce.com')).toBe('http://a:1');
    expect(r.forUrl('http://127.0.0.1:4000')).toBe('http://b:2');
    expect(proxyRoute(undefined, {}).forUrl('https://login.salesforce.com')).toBeNull();
  });
});
