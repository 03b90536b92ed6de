import net from 'node:net';

describe('toolchain', () => {
  it('runs on Node 24, the Lambda runtime (nodejs24.x)', () => {
    console.log(`tests run on Node ${process.version}`);
    expect(process.version.startsWith('v24')).toBe(true);
  });

  it('refuses any connection that is not to loopback', () => {
    const socket = new net.Socket();
    expect(() => socket.connect(443, 'api.criminalip.io')).toThrow(/loopback/);
    socket.destroy();
  });
});
