import { convertScalar, type ScalarType } from '../../../pipeline/stages/convert';

describe('convertScalar: one non-empty Bulk CSV value to its typed value', () => {
  const accepted: [ScalarType, string, string | number | boolean][] = [
    ['string', ' keeps  spaces ', ' keeps  spaces '],
    ['id', '005Hn00000AbCdE', '005Hn00000AbCdE'],
    ['id', '005Hn00000AbCdEIAV', '005Hn00000AbCdEIAV'],
    ['boolean', 'true', true],
    ['boolean', 'false', false],
    ['int', '42', 42],
    ['int', '-2147483648', -(2 ** 31)],
    ['long', '9007199254740991', Number.MAX_SAFE_INTEGER],
    ['double', '51.507351', 51.507351],
    ['double', '-0.1277583', -0.1277583],
    ['double', '1e3', 1000],
    ['double', '.5', 0.5],
    ['timestamp-millis', '2024-05-01T10:20:30.000Z', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['timestamp-millis', '2024-05-01T10:20:30.123Z', Date.UTC(2024, 4, 1, 10, 20, 30, 123)],
    ['timestamp-millis', '2024-05-01T10:20:30Z', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['timestamp-millis', '2024-05-01T10:20:30.1234567Z', Date.UTC(2024, 4, 1, 10, 20, 30, 123)],
    ['timestamp-millis', '2024-05-01T12:20:30.000+02:00', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['timestamp-millis', '2024-05-01T10:20:30.000+0000', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['timestamp-millis', '2024-04-30T23:20:30.000-1100', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['timestamp-millis', '1969-12-31T23:59:59.999Z', -1],
    ['timestamp-millis', '2024-02-29T00:00:00.000Z', Date.UTC(2024, 1, 29)],
    ['date', '1970-01-01', 0],
    ['date', '2024-05-01', 19844],
    ['date', '1969-12-31', -1],
  ];
  test.each(accepted)('%s %j -> %j', (type, raw, expected) => {
    expect(convertScalar(type, raw)).toEqual({ ok: true, value: expected });
  });

  const rejected: [ScalarType, string, string][] = [
    ['id', '005Hn00000AbCd', 'not a 15- or 18-character Salesforce id'],
    ['id', '005Hn00000AbCdE-AV', 'not a 15- or 18-character Salesforce id'],
    ['boolean', 'TRUE', 'not a boolean (true or false)'],
    ['boolean', '1', 'not a boolean (true or false)'],
    ['int', '2147483648', 'not a 32-bit integer'],
    ['int', '4.2', 'not a 32-bit integer'],
    ['long', '9007199254740993', 'not an integer within +/-2^53'],
    ['double', 'north', 'not a decimal number'],
    ['double', '0x10', 'not a decimal number'],
    ['double', '1,5', 'not a decimal number'],
    ['double', 'Infinity', 'not a decimal number'],
    ['double', '1e400', 'not a decimal number'],
    ['timestamp-millis', '2024-05-01', 'not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)'],
    ['timestamp-millis', '2024-05-01T10:20:30', 'not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)'],
    ['timestamp-millis', '2023-02-29T10:20:30.000Z', 'not a valid calendar datetime'],
    ['timestamp-millis', '2024-05-01T24:00:00.000Z', 'not a valid calendar datetime'],
    ['timestamp-millis', 'May 1, 2024', 'not an ISO-8601 datetime with a zone (e.g. 2024-05-01T10:20:30.000Z)'],
    ['date', '2024-13-01', 'not a valid calendar date'],
    ['date', '2024-5-1', 'not a date (YYYY-MM-DD)'],
  ];
  test.each(rejected)('%s %j is rejected: %s', (type, raw, reason) => {
    expect(convertScalar(type, raw)).toEqual({ ok: false, reason });
  });
});
