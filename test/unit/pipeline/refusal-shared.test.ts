import { scalarValue, Refusal, convertScalar } from '../../../pipeline/stages/convert';

/**
 * Review of issue 15: scalarValue returns one shared Refusal per reason (no allocation per refused value).
 * It is exported, and `readonly` is a compile-time word only: a caller that writes to the refusal it got
 * (say, to add the field) changes the reason of every later refusal of the whole process. A shared object
 * must not carry state from one row to the next.
 */
it('a refusal written to by one caller leaves the next refusal of the same kind as it was', () => {
  const first = scalarValue('int', 'x');
  expect(first).toBeInstanceOf(Refusal);
  try {
    (first as { reason: string }).reason = 'Age: not a 32-bit integer';
  } catch {
    // a frozen refusal refuses the write: that is the fix
  }
  expect(convertScalar('int', 'y')).toEqual({ ok: false, reason: 'not a 32-bit integer' });
});
