import { constantTimeEqual } from '../../lib/core/constant-time';

describe('constantTimeEqual', () => {
  it('accepts the same secret', () => {
    expect(constantTimeEqual('s3cr3t-token', 's3cr3t-token')).toBe(true);
  });

  it('refuses a different secret, a prefix and a longer string', () => {
    expect(constantTimeEqual('s3cr3t-token', 's3cr3t-tokem')).toBe(false);
    expect(constantTimeEqual('s3cr3t-token', 's3cr3t')).toBe(false);
    expect(constantTimeEqual('s3cr3t', 's3cr3t-token')).toBe(false);
  });

  it('never accepts two empty strings (an unset secret opens nothing)', () => {
    expect(constantTimeEqual('', '')).toBe(false);
  });

  it('compares unicode exactly', () => {
    expect(constantTimeEqual('pässwörd', 'pässwörd')).toBe(true);
    expect(constantTimeEqual('pässwörd', 'passwörd')).toBe(false);
  });
});
