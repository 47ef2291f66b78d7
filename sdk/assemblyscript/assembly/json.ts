// Reading and writing the JSON of the module ABI, on UTF-8 bytes in linear
// memory: a validating pull decoder over the input document, whose raw
// values stay (pointer, length) slices of it, and a growable output buffer.
//
// Under Registrar's host every loop iteration of a module pays a deadline
// check, so the decoder walks each document once, skips nested values in
// one non-recursive loop and scans string contents eight bytes at a time.

const MAX_DEPTH: i32 = 10000;

/** A growable byte buffer. */
export class Buf {
  data: ArrayBuffer;
  len: i32 = 0;

  constructor(cap: i32 = 256) {
    this.data = new ArrayBuffer(cap);
  }

  get ptr(): usize {
    return changetype<usize>(this.data);
  }

  grow(more: i32): void {
    const need = this.len + more;
    const cap = this.data.byteLength;
    if (need <= cap) return;
    let next = cap * 2;
    while (next < need) next *= 2;
    const data = new ArrayBuffer(next);
    memory.copy(changetype<usize>(data), changetype<usize>(this.data), this.len);
    this.data = data;
  }

  put(p: usize, n: i32): void {
    this.grow(n);
    memory.copy(this.ptr + <usize>this.len, p, n);
    this.len += n;
  }

  byte(c: i32): void {
    this.grow(1);
    store<u8>(this.ptr + <usize>this.len, <u8>c);
    this.len++;
  }

  /** Appends an ASCII string. */
  ascii(s: string): void {
    const n = s.length;
    this.grow(n);
    const p = this.ptr + <usize>this.len;
    for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>s.charCodeAt(i));
    this.len += n;
  }

  /** A copy of the contents. */
  copy(): ArrayBuffer {
    const ab = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(ab), this.ptr, this.len);
    return ab;
  }
}

/** A slice of bytes: raw JSON or UTF-8 text, kept alive by owner if set. */
export class Slice {
  constructor(
    public ptr: usize,
    public len: i32,
    public owner: ArrayBuffer | null = null,
  ) {}

  static of(ab: ArrayBuffer): Slice {
    return new Slice(changetype<usize>(ab), ab.byteLength, ab);
  }

  /** Reports whether the slice holds exactly these ASCII characters. */
  is(s: string): bool {
    return bytesAre(this.ptr, this.len, s);
  }

  toText(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.len);
  }
}

/** Reports whether the n bytes at p are exactly the characters of s (ASCII
 * or not: a character beyond ASCII never equals a byte). */
// @ts-ignore: decorator
@inline
export function bytesAre(p: usize, n: i32, s: string): bool {
  if (n != s.length) return false;
  const q = changetype<usize>(s); // UTF-16 code units
  for (let i = 0; i < n; i++) {
    if (<u16>load<u8>(p + <usize>i) != load<u16>(q + (<usize>i << 1))) return false;
  }
  return true;
}

// ---- writing ----

const HEX = "0123456789abcdef";

/** Appends s as a JSON string: quotes, backslashes and control characters
 * escaped, U+2028 and U+2029 too; lone surrogates become U+FFFD. */
export function writeString(b: Buf, s: string): void {
  const n = s.length;
  b.grow(n + 2);
  b.byte(0x22);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x22 && c != 0x5c) {
        b.byte(c);
      } else if (c == 0x22 || c == 0x5c) {
        b.byte(0x5c);
        b.byte(c);
      } else if (c == 0x0a) {
        b.ascii("\\n");
      } else if (c == 0x0d) {
        b.ascii("\\r");
      } else if (c == 0x09) {
        b.ascii("\\t");
      } else {
        b.ascii("\\u00");
        b.byte(HEX.charCodeAt(c >> 4));
        b.byte(HEX.charCodeAt(c & 15));
      }
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    if (cp == 0x2028 || cp == 0x2029) {
      b.ascii(cp == 0x2028 ? "\\u2028" : "\\u2029");
      continue;
    }
    putUTF8(b, cp);
  }
  b.byte(0x22);
}

export function putUTF8(b: Buf, cp: i32): void {
  if (cp < 0x80) {
    b.byte(cp);
  } else if (cp < 0x800) {
    b.byte(0xc0 | (cp >> 6));
    b.byte(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    b.byte(0xe0 | (cp >> 12));
    b.byte(0x80 | ((cp >> 6) & 0x3f));
    b.byte(0x80 | (cp & 0x3f));
  } else {
    b.byte(0xf0 | (cp >> 18));
    b.byte(0x80 | ((cp >> 12) & 0x3f));
    b.byte(0x80 | ((cp >> 6) & 0x3f));
    b.byte(0x80 | (cp & 0x3f));
  }
}

export function writeStrings(b: Buf, ss: string[]): void {
  b.byte(0x5b);
  for (let i = 0; i < ss.length; i++) {
    if (i > 0) b.byte(0x2c);
    writeString(b, ss[i]);
  }
  b.byte(0x5d);
}

// ---- reading ----

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

// The high bit of each byte of w that is '"', '\\', a control character or
// not ASCII; a borrow can only spoil the bytes above the first match.
// @ts-ignore: decorator
@inline
function stops(w: u64): u64 {
  const q = w ^ (ONES * 0x22);
  const s = w ^ (ONES * 0x5c);
  return (((q - ONES) & ~q) | ((s - ONES) & ~s) | ((w - ONES * 0x20) & ~w) | w) & HIGHS;
}

/** The result of the typed reads. */
export const enum Read {
  Error = -1,
  Other = 0,
  OK = 1,
}

export class Decoder {
  i: i32 = 0;
  err: string | null = null;
  errAt: i32 = 0;
  // Set by plainRun: whether the bytes it passed were all ASCII.
  ascii: bool = true;
  // Set by stringEnd: whether the string was ASCII without escapes.
  plain: bool = true;

  constructor(
    public base: usize,
    public n: i32,
  ) {}

  static of(s: Slice): Decoder {
    return new Decoder(s.ptr, s.len);
  }

  fail(at: i32, msg: string): bool {
    if (this.err == null) {
      this.err = msg;
      this.errAt = at;
    }
    return false;
  }

  at(i: i32): i32 {
    return <i32>load<u8>(this.base + <usize>i);
  }

  skipSpace(): void {
    while (this.i < this.n) {
      const c = this.at(this.i);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.i++;
    }
  }

  /** The first byte of the next value, or 0 at the end. */
  peek(): i32 {
    this.skipSpace();
    return this.i < this.n ? this.at(this.i) : 0;
  }

  /** Checks that only white space is left. */
  end(): bool {
    this.skipSpace();
    if (this.err != null) return false;
    return this.i == this.n || this.fail(this.i, "data after the value");
  }

  /** Reads a null if one comes next. */
  null(): bool {
    if (this.peek() == 0x6e && this.n - this.i >= 4 && this.at(this.i + 1) == 0x75 && this.at(this.i + 2) == 0x6c && this.at(this.i + 3) == 0x6c) {
      this.i += 4;
      return true;
    }
    return false;
  }

  /** Offset of the first '"', '\\' or control character at or after i;
   * sets this.ascii. */
  plainRun(i: i32): i32 {
    const n = this.n;
    const base = this.base;
    let ascii = true;
    while (i + 8 <= n) {
      const m = stops(load<u64>(base + <usize>i));
      if (m == 0) {
        i += 8;
        continue;
      }
      i += <i32>(ctz<u64>(m) >> 3);
      if (this.at(i) < 0x80) {
        this.ascii = ascii;
        return i;
      }
      ascii = false;
      i++;
    }
    for (; i < n; i++) {
      const c = this.at(i);
      if (c == 0x22 || c == 0x5c || c < 0x20) break;
      if (c >= 0x80) ascii = false;
    }
    this.ascii = ascii;
    return i;
  }

  /** Scans the string at start (a '"') and returns the offset after its
   * closing quote, or -1; sets this.plain. */
  stringEnd(start: i32): i32 {
    let i = start + 1;
    let plain = true;
    while (true) {
      i = this.plainRun(i);
      plain = plain && this.ascii;
      if (i >= this.n) {
        this.fail(start, "unterminated string");
        return -1;
      }
      const c = this.at(i);
      if (c == 0x22) {
        this.plain = plain;
        return i + 1;
      }
      if (c != 0x5c) {
        this.fail(i, "control character in a string");
        return -1;
      }
      plain = false;
      if (i + 1 >= this.n) {
        this.fail(start, "unterminated string");
        return -1;
      }
      const e = this.at(i + 1);
      if (e == 0x75) {
        if (i + 6 > this.n || hex4(this.base + <usize>(i + 2)) < 0) {
          this.fail(i, "invalid \\u escape");
          return -1;
        }
        i += 6;
      } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
        i += 2;
      } else {
        this.fail(i, "invalid escape");
        return -1;
      }
    }
    return -1;
  }

  /** Skips one value, validating it, in one loop without recursion. */
  skip(): bool {
    // states: 0 value, 1 name or close, 2 value or close, 3 name, 4 colon, 5 comma or close
    let state = 0;
    let bits: u64 = 0; // kinds of the first 64 open containers: 1 = object
    let deeper: StaticArray<bool> | null = null;
    let depth = 0;
    let i = this.i;
    const n = this.n;
    if (this.err != null) return false;
    while (true) {
      if (i >= n) return this.fail(i, "unexpected end of JSON");
      const c = this.at(i);
      if (c <= 0x20) {
        if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) {
          i++;
          continue;
        }
        return this.fail(i, "unexpected control character");
      }
      if (state == 4) {
        if (c != 0x3a) return this.fail(i, "expected ':' after a member name");
        i++;
        state = 0;
        continue;
      }
      if (state == 5) {
        const inObject = depth <= 64 ? ((bits >> <u64>(depth - 1)) & 1) == 1 : deeper![depth - 65];
        if (c == 0x2c) {
          i++;
          state = inObject ? 3 : 0;
          continue;
        }
        if (c == 0x7d || c == 0x5d) {
          if (inObject != (c == 0x7d)) return this.fail(i, "mismatched bracket");
          i++;
          depth--;
          if (depth == 0) {
            this.i = i;
            return true;
          }
          continue;
        }
        return this.fail(i, "expected ',' or the end of a container");
      }
      if (state == 1 || state == 2) {
        if (c == (state == 1 ? 0x7d : 0x5d)) {
          i++;
          depth--;
          if (depth == 0) {
            this.i = i;
            return true;
          }
          state = 5;
          continue;
        }
        state = state == 1 ? 3 : 0;
      }
      if (state == 3) {
        if (c != 0x22) return this.fail(i, "expected a member name");
        i = this.stringEnd(i);
        if (i < 0) return false;
        state = 4;
        continue;
      }
      if (c == 0x22) {
        i = this.stringEnd(i);
        if (i < 0) return false;
      } else if (c == 0x7b || c == 0x5b) {
        if (depth >= MAX_DEPTH) return this.fail(i, "nested too deeply");
        if (depth < 64) {
          bits = (bits & ~(<u64>1 << <u64>depth)) | (<u64>(c == 0x7b ? 1 : 0) << <u64>depth);
        } else {
          if (deeper == null) deeper = new StaticArray<bool>(MAX_DEPTH - 64);
          deeper[depth - 64] = c == 0x7b;
        }
        depth++;
        i++;
        state = c == 0x7b ? 1 : 2;
        continue;
      } else if (c == 0x74 || c == 0x66 || c == 0x6e) {
        const lit = c == 0x74 ? "true" : c == 0x66 ? "false" : "null";
        const len = lit.length;
        if (n - i < len) return this.fail(i, "invalid literal");
        for (let k = 1; k < len; k++) {
          if (this.at(i + k) != lit.charCodeAt(k)) return this.fail(i, "invalid literal");
        }
        i += len;
      } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
        const e = this.number(i);
        if (e < 0) return this.fail(i, "invalid number");
        i = e;
      } else {
        return this.fail(i, "expected a value");
      }
      if (depth == 0) {
        this.i = i;
        return true;
      }
      state = 5;
    }
    return false;
  }

  digit(i: i32): bool {
    if (i >= this.n) return false;
    const c = this.at(i);
    return c >= 0x30 && c <= 0x39;
  }

  /** Scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at i; -1 if none. */
  number(i: i32): i32 {
    if (this.at(i) == 0x2d) i++;
    if (i < this.n && this.at(i) == 0x30) {
      i++;
    } else if (i < this.n && this.at(i) >= 0x31 && this.at(i) <= 0x39) {
      while (this.digit(i)) i++;
    } else {
      return -1;
    }
    if (i < this.n && this.at(i) == 0x2e) {
      if (!this.digit(i + 1)) return -1;
      i++;
      while (this.digit(i)) i++;
    }
    if (i < this.n && (this.at(i) == 0x65 || this.at(i) == 0x45)) {
      i++;
      if (i < this.n && (this.at(i) == 0x2b || this.at(i) == 0x2d)) i++;
      if (!this.digit(i)) return -1;
      while (this.digit(i)) i++;
    }
    return i;
  }

  /** Reads any value and returns it as written, or null on an error. */
  raw(): Slice | null {
    if (!this.rawValue()) return null;
    return new Slice(this.rawPtr, this.rawLen);
  }

  // Set by rawValue: the value as written.
  rawPtr: usize = 0;
  rawLen: i32 = 0;

  /** Reads any value into rawPtr/rawLen, without allocating; false on an
   * error. */
  rawValue(): bool {
    this.skipSpace();
    const start = this.i;
    if (!this.skip()) return false;
    this.rawPtr = this.base + <usize>start;
    this.rawLen = this.i - start;
    return true;
  }

  /** Skips any value. */
  skipValue(): bool {
    this.skipSpace();
    return this.skip();
  }

  /** Reads a string; a valid value of another kind is consumed and is
   * Read.Other. The string is in this.str. */
  str: string = "";

  readString(): Read {
    if (this.peek() != 0x22) return this.skipValue() ? Read.Other : Read.Error;
    const start = this.i;
    const end = this.stringEnd(start);
    if (end < 0) return Read.Error;
    this.i = end;
    this.str = decodeBody(this.base + <usize>(start + 1), end - start - 2, this.plain);
    return Read.OK;
  }

  /** Reads an array of strings into this.strs; Read.Other if the value
   * (consumed) is of another kind or holds one. */
  strs: string[] = [];

  readStrings(): Read {
    if (this.peek() != 0x5b) return this.skipValue() ? Read.Other : Read.Error;
    this.i++;
    const out = new Array<string>();
    let other = false;
    if (this.peek() == 0x5d) {
      this.i++;
      this.strs = out;
      return Read.OK;
    }
    while (true) {
      const r = this.readString();
      if (r == Read.Error) return Read.Error;
      if (r == Read.Other) other = true;
      else out.push(this.str);
      const c = this.peek();
      if (c == 0x2c) {
        this.i++;
        continue;
      }
      if (c == 0x5d) {
        this.i++;
        break;
      }
      this.fail(this.i, "expected ',' or ']' in an array");
      return Read.Error;
    }
    this.strs = out;
    return other ? Read.Other : Read.OK;
  }

  // Object stepping: begin() then next() until it returns Read.Other.
  // next() leaves the decoder at the member's value, with its name in
  // namePtr/nameLen (as written, quotes excluded) and namePlain.
  namePtr: usize = 0;
  nameLen: i32 = 0;
  namePlain: bool = true;
  started: bool = false;

  /** Starts reading an object: Read.Other if the value (consumed) is not
   * one. */
  begin(): Read {
    if (this.peek() != 0x7b) return this.skipValue() ? Read.Other : Read.Error;
    this.i++;
    this.started = false;
    return Read.OK;
  }

  next(): Read {
    let c = this.peek();
    if (!this.started) {
      this.started = true;
      if (c == 0x7d) {
        this.i++;
        return Read.Other;
      }
    } else {
      if (c == 0x7d) {
        this.i++;
        return Read.Other;
      }
      if (c != 0x2c) {
        this.fail(this.i, "expected ',' or '}' in an object");
        return Read.Error;
      }
      this.i++;
      c = this.peek();
    }
    if (c != 0x22) {
      this.fail(this.i, "expected a member name");
      return Read.Error;
    }
    const start = this.i;
    const end = this.stringEnd(start);
    if (end < 0) return Read.Error;
    this.namePtr = this.base + <usize>(start + 1);
    this.nameLen = end - start - 2;
    this.namePlain = this.plain;
    this.i = end;
    if (this.peek() != 0x3a) {
      this.fail(this.i, "expected ':' after a member name");
      return Read.Error;
    }
    this.i++;
    this.skipSpace();
    return Read.OK;
  }

  /** Reports whether the current member's name is this ASCII name,
   * without allocating. */
  nameIs(s: string): bool {
    return this.namePlain && bytesAre(this.namePtr, this.nameLen, s);
  }

  name(): string {
    return decodeBody(this.namePtr, this.nameLen, this.namePlain);
  }
}

/** hex4 reads four hex digits at p; -1 if they are not. */
function hex4(p: usize): i32 {
  let r = 0;
  for (let k = 0; k < 4; k++) {
    const c = <i32>load<u8>(p + <usize>k);
    let v: i32;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x41 + 10;
    else return -1;
    r = (r << 4) | v;
  }
  return r;
}

/** Decodes the body of a valid JSON string (len bytes at p). Lone
 * surrogates become U+FFFD. */
export function decodeBody(p: usize, len: i32, plain: bool): string {
  if (plain) return String.UTF8.decodeUnsafe(p, len);
  const b = new Buf(len + 1);
  let i = 0;
  while (i < len) {
    const c = <i32>load<u8>(p + <usize>i);
    if (c != 0x5c) {
      b.byte(c);
      i++;
      continue;
    }
    const e = <i32>load<u8>(p + <usize>(i + 1));
    if (e != 0x75) {
      b.byte(e == 0x62 ? 8 : e == 0x66 ? 12 : e == 0x6e ? 10 : e == 0x72 ? 13 : e == 0x74 ? 9 : e);
      i += 2;
      continue;
    }
    let r = hex4(p + <usize>(i + 2));
    i += 6;
    if (r >= 0xd800 && r < 0xdc00) {
      let lo = -1;
      if (i + 6 <= len && load<u8>(p + <usize>i) == 0x5c && load<u8>(p + <usize>(i + 1)) == 0x75) lo = hex4(p + <usize>(i + 2));
      if (lo >= 0xdc00 && lo < 0xe000) {
        r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      } else {
        r = 0xfffd;
      }
    } else if (r >= 0xdc00 && r < 0xe000) {
      r = 0xfffd;
    }
    putUTF8(b, r);
  }
  return String.UTF8.decodeUnsafe(b.ptr, b.len);
}

/** Parses an integer written without fraction or exponent that fits in 64
 * bits; ok is false otherwise. */
export class Int {
  ok: bool = false;
  value: i64 = 0;
}

export function parseInt64(s: Slice): Int {
  const r = new Int();
  const n = s.len;
  let i = 0;
  const neg = n > 0 && load<u8>(s.ptr) == 0x2d;
  if (neg) i++;
  if (i == n || (load<u8>(s.ptr + <usize>i) == 0x30 && n - i > 1)) return r;
  let v: u64 = 0;
  const limit: u64 = neg ? <u64>9223372036854775808 : <u64>9223372036854775807;
  for (; i < n; i++) {
    const c = <i32>load<u8>(s.ptr + <usize>i);
    if (c < 0x30 || c > 0x39) return r;
    const d = <u64>(c - 0x30);
    if (v > (limit - d) / 10) return r;
    v = v * 10 + d;
  }
  r.ok = true;
  r.value = neg ? <i64>(0 - v) : <i64>v;
  return r;
}

/** Reports whether s is exactly one valid JSON value. */
export function valid(s: Slice): bool {
  const d = Decoder.of(s);
  return d.skipValue() && d.end();
}
