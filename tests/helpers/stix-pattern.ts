/**
 * A reader of the one pattern shape the product emits, `[<type>:value = '<literal>']`, written
 * independently of lib/stix/pattern.ts so that tests can prove each pattern is exactly one
 * comparison that gives the value back.
 */
/**
 * Reads `[<type>:value = '<literal>']` following the STIX 2.1 patterning grammar for one
 * comparison, whose string literal knows the escapes \\ and \' only. Returns the unescaped value;
 * throws when the pattern is anything more (a second comparison, an operator, a broken literal).
 */
export function singleComparison(pattern: string): { type: string; value: string } {
  const head = /^\[([a-z0-9-]+):value = '/.exec(pattern);
  if (!head) throw new Error(`not a single value comparison: ${pattern.slice(0, 80)}`);
  let value = '';
  let index = head[0].length;
  for (;;) {
    const character = pattern[index];
    if (character === undefined) throw new Error('the string literal never closes');
    if (character === "'") break;
    if (character === '\\') {
      const escaped = pattern[index + 1];
      if (escaped !== '\\' && escaped !== "'") throw new Error(`invalid escape \\${String(escaped)}`);
      value += escaped;
      index += 2;
    } else {
      value += character;
      index += 1;
    }
  }
  if (pattern.slice(index) !== "']")
    throw new Error(`text after the comparison: ${pattern.slice(index, index + 80)}`);
  return { type: head[1]!, value };
}
