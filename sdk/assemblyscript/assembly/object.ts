import { Buf, Decoder, Read, Slice, bytesAre, parseInt64, valid, writeString, writeStrings } from "./json";
import { Code, fail, reject } from "./errors";

/** One member: its name, and its value as raw JSON. Positions and
 * lengths are kept as numbers, not objects: a member is one allocation. */
class Member {
  // The name as written (quotes excluded) when it is ASCII without
  // escapes (namePtr != 0), so that it is compared and written out without
  // decoding; else the decoded name.
  namePtr: usize = 0;
  nameLen: i32 = 0;
  decodedName: string | null = null;
  // The value as written; owner keeps a value set later alive.
  valuePtr: usize = 0;
  valueLen: i32 = 0;
  owner: ArrayBuffer | null = null;

  is(name: string): bool {
    if (this.namePtr != 0) return bytesAre(this.namePtr, this.nameLen, name);
    return this.decodedName! == name;
  }

  get name(): string {
    return this.namePtr != 0 ? String.UTF8.decodeUnsafe(this.namePtr, this.nameLen) : this.decodedName!;
  }

  get value(): Slice {
    return new Slice(this.valuePtr, this.valueLen, this.owner);
  }

  setValue(s: Slice): void {
    this.valuePtr = s.ptr;
    this.valueLen = s.len;
    this.owner = s.owner;
  }

  isNull(): bool {
    return bytesAre(this.valuePtr, this.valueLen, "null");
  }
}

/**
 * A JSON object, such as client metadata, with its member values kept as
 * raw JSON in document order. The typed accessors decode a value on
 * demand; the setters encode one.
 *
 * Policy metadata is not yet validated: any member may have the wrong
 * type. An accessor that meets one records a rejection with
 * invalid_client_metadata ("redirect_uris must be an array of strings")
 * and returns null (or false, or 0): the call then answers that rejection,
 * whatever the hook returns (see `failed()`). A member whose value is null
 * reads as absent, as Registrar treats it.
 *
 * The configuration (Envelope.configObject) is the operator's, not the
 * client's: there, a member of the wrong type records a failure
 * ("configuration: hosts must be an array of strings") instead, as do
 * the objects read from it.
 */
export class Obj {
  private members: Member[] = [];
  /** @internal Type errors are failures (configuration), not rejections. */
  config: bool = false;

  /** Parses a JSON object; null if json is not exactly one. */
  static parse(json: string): Obj | null {
    const ab = String.UTF8.encode(json);
    return Obj.parseSlice(Slice.of(ab));
  }

  /** @internal Parses an object from raw bytes, which it keeps. */
  static parseSlice(s: Slice): Obj | null {
    const d = Decoder.of(s);
    const o = Obj.read(d);
    if (o == null || !d.end()) return null;
    if (s.owner != null) o.owner = s.owner;
    return o;
  }

  // Keeps the bytes of a parsed copy alive.
  private owner: ArrayBuffer | null = null;

  /** @internal Reads an object whose values stay raw; null on an error
   * (d.err set) or if the value, consumed, is not an object. */
  static read(d: Decoder): Obj | null {
    const r = d.begin();
    if (r != Read.OK) return null;
    const o = new Obj();
    while (true) {
      const k = d.next();
      if (k == Read.Other) return o;
      if (k == Read.Error) return null;
      const m = new Member();
      if (d.namePlain) {
        m.namePtr = d.namePtr;
        m.nameLen = d.nameLen;
      } else {
        m.decodedName = d.name();
      }
      if (!d.rawValue()) return null;
      m.valuePtr = d.rawPtr;
      m.valueLen = d.rawLen;
      o.members.push(m);
    }
  }

  get length(): i32 {
    return this.members.length;
  }

  /** The name of the i-th member. */
  nameAt(i: i32): string {
    return this.members[i].name;
  }

  /** The raw value of the i-th member. */
  rawAt(i: i32): string {
    const m = this.members[i];
    return String.UTF8.decodeUnsafe(m.valuePtr, m.valueLen);
  }

  private find(name: string): Member | null {
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      const m = unchecked(ms[i]);
      if (m.is(name)) return m;
    }
    return null;
  }

  /** A member's raw value unless it is absent or null. */
  private value(name: string): Slice | null {
    const m = this.find(name);
    if (m == null || m.isNull()) return null;
    return m.value;
  }

  /** A member's raw JSON, if present (null included). */
  get(name: string): string | null {
    const m = this.find(name);
    return m == null ? null : String.UTF8.decodeUnsafe(m.valuePtr, m.valueLen);
  }

  /** Reports whether the member is present and not null. */
  has(name: string): bool {
    const m = this.find(name);
    return m != null && !m.isNull();
  }

  /** A string member; null if absent, null or of another type. */
  string(name: string): string | null {
    const v = this.value(name);
    if (v == null) return null;
    const d = Decoder.of(v);
    if (d.readString() != Read.OK || !d.end()) return this.typeError<string | null>(name, "a string", null);
    return d.str;
  }

  /** An array-of-strings member; null if absent, null or of another type. */
  stringArray(name: string): string[] | null {
    const v = this.value(name);
    if (v == null) return null;
    const d = Decoder.of(v);
    if (d.readStrings() != Read.OK || !d.end()) return this.typeError<string[] | null>(name, "an array of strings", null);
    return d.strs;
  }

  /** A boolean member; false if absent, null or of another type. */
  bool(name: string): bool {
    const v = this.value(name);
    if (v == null) return false;
    if (v.is("true")) return true;
    if (v.is("false")) return false;
    return this.typeError<bool>(name, "true or false", false);
  }

  /** An integer member written without fraction or exponent; 0 if absent,
   * null or of another type. */
  int64(name: string): i64 {
    const v = this.value(name);
    if (v == null) return 0;
    const r = parseInt64(v);
    if (!r.ok) return this.typeError<i64>(name, "an integer", 0);
    return r.value;
  }

  /** An object member; null if absent, null or of another type. */
  object(name: string): Obj | null {
    const v = this.value(name);
    if (v == null) return null;
    const o = Obj.parseSlice(v);
    if (o == null) return this.typeError<Obj | null>(name, "an object", null);
    o.config = this.config;
    return o;
  }

  private set(name: string, value: Slice): void {
    const m = this.find(name);
    if (m != null) {
      m.setValue(value);
      return;
    }
    const n = new Member();
    n.decodedName = name;
    n.setValue(value);
    this.members.push(n);
  }

  setString(name: string, value: string): void {
    const b = new Buf(value.length + 2);
    writeString(b, value);
    this.set(name, Slice.of(b.copy()));
  }

  setStringArray(name: string, value: string[]): void {
    const b = new Buf();
    writeStrings(b, value);
    this.set(name, Slice.of(b.copy()));
  }

  setBool(name: string, value: bool): void {
    this.set(name, Slice.of(String.UTF8.encode(value ? "true" : "false")));
  }

  setInt64(name: string, value: i64): void {
    this.set(name, Slice.of(String.UTF8.encode(value.toString())));
  }

  setObject(name: string, value: Obj): void {
    const b = new Buf();
    value.write(b);
    this.set(name, Slice.of(b.copy()));
  }

  /** Sets a member to raw JSON; false (and nothing set) if it is not
   * valid JSON. */
  setRaw(name: string, json: string): bool {
    const s = Slice.of(String.UTF8.encode(json));
    if (!valid(s)) return false;
    this.set(name, s);
    return true;
  }

  /** Removes a member, if present. */
  delete(name: string): void {
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      if (ms[i].is(name)) {
        ms.splice(i, 1);
        return;
      }
    }
  }

  private typeError<T>(name: string, want: string, zero: T): T {
    if (this.config) fail("configuration: " + name + " must be " + want);
    else reject(Code.InvalidClientMetadata, name + " must be " + want);
    return zero;
  }

  /** @internal Writes the object as JSON, members in order. */
  write(b: Buf): void {
    b.byte(0x7b);
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      const m = unchecked(ms[i]);
      if (i > 0) b.byte(0x2c);
      if (m.namePtr != 0) {
        b.byte(0x22);
        b.put(m.namePtr, m.nameLen);
        b.byte(0x22);
      } else {
        writeString(b, m.decodedName!);
      }
      b.byte(0x3a);
      b.put(m.valuePtr, m.valueLen);
    }
    b.byte(0x7d);
  }

  /** The object as JSON, members in order. */
  toJSON(): string {
    const b = new Buf();
    this.write(b);
    return String.UTF8.decodeUnsafe(b.ptr, b.len);
  }
}


