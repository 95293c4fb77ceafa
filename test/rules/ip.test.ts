// IP address text: strict parsing and the canonical form of SPEC.md 11.8; prefix masks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp, ipv4Mask, ipv6Mask, maskIp, parseIp } from '../../src/rules/ip.ts';

const roundTrip = (text: string): string | undefined => {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
};

describe('parseIp', () => {
  it('parses IPv4 dotted quads', () => {
    assert.deepEqual(parseIp('0.0.0.0'), { family: 4, value: 0 });
    assert.deepEqual(parseIp('255.255.255.255'), { family: 4, value: 0xffffffff });
    assert.deepEqual(parseIp('10.1.2.3'), { family: 4, value: 0x0a010203 });
  });

  it('rejects malformed IPv4, and leading zeros unless allowed', () => {
    const invalid = ['1.2.3', '1.2.3.4.5', '256.0.0.0', '1.2.3.', '.1.2.3', '1..2.3', '1.2.3.4/24', ' 1.2.3.4', '1.2.3.-4', '1.2.3.0x1', '', '1234.1.1.1'];
    for (const text of invalid) {
      assert.equal(parseIp(text), undefined, text);
    }
    assert.equal(parseIp('1.1.1.01'), undefined);
    assert.deepEqual(parseIp('1.1.1.01', { allowLeadingZeros: true }), { family: 4, value: 0x01010101 });
    assert.deepEqual(parseIp('010.0.0.000', { allowLeadingZeros: true }), { family: 4, value: 0x0a000000 });
    assert.equal(parseIp('1.1.1.0001', { allowLeadingZeros: true }), undefined);
  });

  it('parses the RFC 4291 IPv6 forms', () => {
    assert.deepEqual(parseIp('::'), { family: 6, value: 0n });
    assert.deepEqual(parseIp('::1'), { family: 6, value: 1n });
    assert.deepEqual(parseIp('1::'), { family: 6, value: 1n << 112n });
    assert.deepEqual(parseIp('::ffff:1.2.3.4'), { family: 6, value: 0xffff01020304n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), { family: 6, value: 0x00010002000300040005000600070008n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:1.2.3.4'), { family: 6, value: 0x00010002000300040005000601020304n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7::'), { family: 6, value: 0x00010002000300040005000600070000n });
    assert.deepEqual(parseIp('::2:3:4:5:6:7:8'), { family: 6, value: 0x00000002000300040005000600070008n });
    assert.deepEqual(parseIp('2001:DB8::aB'), { family: 6, value: 0x20010db80000000000000000000000abn });
  });

  it('rejects malformed IPv6', () => {
    for (const text of [
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      '12345::',
      'g::',
      ':1::',
      '1::2:',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1.2.3.4::',
      '::1.2.3.4:1',
      '::1.2.3',
      '::01.2.3.4',
      '::1/128',
      'fe80::1%eth0',
    ]) {
      assert.equal(parseIp(text), undefined, text);
    }
  });
});

describe('formatIp', () => {
  it('writes IPv6 as RFC 5952 / Rust do', () => {
    assert.equal(roundTrip('0:0:0:0:0:0:0:0'), '::');
    assert.equal(roundTrip('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(roundTrip('1:0:0:0:0:0:0:0'), '1::');
    assert.equal(roundTrip('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(roundTrip('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
    assert.equal(roundTrip('2001:db8:0:1:2:3:4:5'), '2001:db8:0:1:2:3:4:5');
    assert.equal(roundTrip('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(roundTrip('2001:0000:130F:0000:0000:09C0:876A:130B'), '2001:0:130f::9c0:876a:130b');
    assert.equal(roundTrip('0:0:1:0:0:0:0:0'), '0:0:1::');
  });

  it('writes IPv4-mapped addresses with a dotted tail, and only those', () => {
    assert.equal(roundTrip('::ffff:1.2.3.4'), '::ffff:1.2.3.4');
    assert.equal(roundTrip('::FFFF:0102:0304'), '::ffff:1.2.3.4');
    assert.equal(roundTrip('::ffff:0.0.0.0'), '::ffff:0.0.0.0');
    assert.equal(roundTrip('::1.2.3.4'), '::102:304');
    assert.equal(roundTrip('::fffe:1.2.3.4'), '::fffe:102:304');
    assert.equal(roundTrip('1::ffff:1.2.3.4'), '1::ffff:102:304');
  });

  it('writes IPv4 dotted decimal', () => {
    assert.equal(formatIp({ family: 4, value: 0xffffffff }), '255.255.255.255');
    assert.equal(formatIp({ family: 4, value: 0 }), '0.0.0.0');
    assert.equal(formatIp({ family: 4, value: 0x7f000001 }), '127.0.0.1');
  });
});

describe('masks', () => {
  it('clears host bits under the prefix length of the family', () => {
    assert.equal(ipv4Mask(0), 0);
    assert.equal(ipv4Mask(24), 0xffffff00);
    assert.equal(ipv4Mask(32), 0xffffffff);
    assert.equal(ipv6Mask(0), 0n);
    assert.equal(ipv6Mask(128), (1n << 128n) - 1n);
    const v4 = parseIp('113.10.0.2')!;
    const v6 = parseIp('2001:db8:ffff::1')!;
    assert.equal(formatIp(maskIp(v4, ipv4Mask(24), ipv6Mask(24))), '113.10.0.0');
    assert.equal(formatIp(maskIp(v4, ipv4Mask(1), ipv6Mask(24))), '0.0.0.0');
    assert.equal(formatIp(maskIp(parseIp('255.1.1.1')!, ipv4Mask(1), ipv6Mask(24))), '128.0.0.0');
    assert.equal(formatIp(maskIp(v6, ipv4Mask(24), ipv6Mask(40))), '2001:db8:ff00::');
    assert.equal(maskIp(v4, ipv4Mask(32), ipv6Mask(128)), v4);
  });
});
