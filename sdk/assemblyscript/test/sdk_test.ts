// Unit tests of the SDK, compiled to WebAssembly and run by sdk.test.mjs:
// each exported test_* function returns 0, or the number of the first
// check that failed.

import { Buf, Decoder, Read, Slice, parseInt64, valid, writeString } from "../assembly/json";
import { Obj, failed, randomString, BASE32 } from "../assembly/index";
import { resetAnswer, recorded } from "../assembly/errors";

export * from "../assembly/exports";

function slice(s: string): Slice {
  return Slice.of(String.UTF8.encode(s));
}

export function test_valid(): i32 {
  const good = ["0", "-0", "1.5e+3", "true", "null", '""', '"a\\u00e9\\""', "[]", "{}", '[1,[2,{"a":[{}]}]]', ' {"a" : [ 1 , 2 ] } '];
  for (let i = 0; i < good.length; i++) if (!valid(slice(good[i]))) return 1 + i;
  const bad = ["", "01", "1.", ".5", "-", "1e", "tru", '"', '"\\x"', '"\\u12"', '"a\nb"', "[1,]", "[1 2]", '{"a"}', '{"a":}', "{a:1}", "[}", "{]", "[1]]", '{"a":1}x'];
  for (let i = 0; i < bad.length; i++) if (valid(slice(bad[i]))) return 100 + i;
  // Beyond the 64 containers kept in bits, and mismatched there.
  let deep = "";
  for (let i = 0; i < 70; i++) deep += i % 2 ? '{"a":' : "[";
  deep += "1";
  for (let i = 69; i >= 0; i--) deep += i % 2 ? "}" : "]";
  if (!valid(slice(deep))) return 200;
  if (valid(slice(deep.substring(0, deep.length - 1) + "}"))) return 201;
  return 0;
}

export function test_strings(): i32 {
  const cases = [
    ['"plain"', "plain"],
    ['"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"', 'a"b\\c/d\b\f\n\r\t'],
    ['"\\u00e9\\u65e5\\ud83d\\ude00"', "é日😀"],
    ['"a\\ud800b\\udc00c\\ud800\\u0041\\ude00\\ud83d\\ud83d\\ude00"', "a\uFFFDb\uFFFDc\uFFFDA\uFFFD\uFFFD😀"],
    ['"café 日本"', "café 日本"],
  ];
  for (let i = 0; i < cases.length; i++) {
    const d = Decoder.of(slice(cases[i][0]));
    if (d.readString() != Read.OK || d.str != cases[i][1]) return 1 + i;
  }
  // Every split of a string between the 8-byte loop and the tail.
  for (let n = 0; n < 20; n++) {
    const body = "x".repeat(n) + 'é\\"';
    const d = Decoder.of(slice('"' + body + '"'));
    if (d.readString() != Read.OK || d.str != "x".repeat(n) + 'é"') return 50 + n;
  }
  const b = new Buf();
  writeString(b, 'a"b\\c\n\u0001\u2028é😀\uD800');
  const got = String.UTF8.decodeUnsafe(b.ptr, b.len);
  if (got != '"a\\"b\\\\c\\n\\u0001\\u2028é😀\uFFFD"') return 100;
  return 0;
}

export function test_integers(): i32 {
  if (parseInt64(slice("-9223372036854775808")).value != i64.MIN_VALUE) return 1;
  if (parseInt64(slice("9223372036854775807")).value != i64.MAX_VALUE) return 2;
  if (!parseInt64(slice("-0")).ok) return 3;
  const bad = ["9223372036854775808", "1.0", "1e3", "+1", "01", "", "-"];
  for (let i = 0; i < bad.length; i++) if (parseInt64(slice(bad[i])).ok) return 10 + i;
  return 0;
}

export function test_object(): i32 {
  resetAnswer();
  const o = Obj.parse('{"redirect_uris":["https://a.example/cb"],"client_name":"App","n":3,"ok":true,"nul":null,"x_\\u00e9":"\\u00e9"}')!;
  if (o.length != 6) return 1;
  if (o.string("client_name")! != "App") return 2;
  if (o.stringArray("redirect_uris")![0] != "https://a.example/cb") return 3;
  if (o.int64("n") != 3 || !o.bool("ok")) return 4;
  if (o.string("nul") != null || o.has("nul") || o.get("nul")! != "null") return 5;
  if (o.string("x_é")! != "é") return 6;
  if (failed()) return 7;
  o.setString("client_name", 'A "B"');
  o.delete("nul");
  o.setInt64("n", -7);
  o.setBool("z", false);
  o.setStringArray("grant_types", ["authorization_code"]);
  if (!o.setRaw("ok", "[1, 2]") || o.setRaw("bad", "[1,")) return 8;
  const want = '{"redirect_uris":["https://a.example/cb"],"client_name":"A \\"B\\"","n":-7,"ok":[1, 2],"x_é":"\\u00e9","z":false,"grant_types":["authorization_code"]}';
  if (o.toJSON() != want) return 9;
  // A type error records the first rejection and reads as empty.
  if (o.string("n") != null || !failed()) return 10;
  const r = recorded()!;
  if (!r.rejection || r.message != "n must be a string") return 11;
  o.bool("client_name");
  if (recorded()!.message != "n must be a string") return 12;
  resetAnswer();
  if (Obj.parse("[]") != null || Obj.parse('{"a":1} {}') != null) return 13;
  return 0;
}

export function test_random(): i32 {
  const s = randomString(1000, BASE32);
  if (s.length != 1000) return 1;
  for (let i = 0; i < BASE32.length; i++) if (!s.includes(BASE32.charAt(i))) return 2;
  for (let i = 0; i < s.length; i++) if (!BASE32.includes(s.charAt(i))) return 3;
  return 0;
}

import { setHook } from "../assembly/abort";

/** Fails an assertion inside the policy hook: the runtime's abort must log
 * it as the hook's failure and trap. */
export function crash(): void {
  setHook(0);
  assert(false, "asked to crash");
}
