import {describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {parseTarget} from '../../../producer/connection.js';

describe('parseTarget', () => {
  it('connects to host:port in plain h2c without a token', () => {
    assert.deepEqual(parseTarget('127.0.0.1:8080'), {
      address: '127.0.0.1:8080',
      tls: false,
      audience: undefined,
    });
  });

  it('uses TLS and an ID token for a Cloud Run URL', () => {
    assert.deepEqual(parseTarget('https://gateway-abc-uc.a.run.app'), {
      address: 'gateway-abc-uc.a.run.app:443',
      tls: true,
      audience: 'https://gateway-abc-uc.a.run.app',
    });
  });

  it('lets flags turn TLS off and a token on', () => {
    assert.deepEqual(
      parseTarget('https://example.test:8443', {tls: false, idToken: true}),
      {
        address: 'example.test:8443',
        tls: false,
        audience: 'https://example.test:8443',
      },
    );
  });

  it('refuses a target that is neither host:port nor a URL', () => {
    assert.throws(() => parseTarget('just-a-host'), /neither host:port/);
  });
});
