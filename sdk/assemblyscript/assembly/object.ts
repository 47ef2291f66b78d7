import { Buf, Decoder, Read, Slice, parseInt64, valid, writeString, writeStrings } from "./json";
import { Code, fail, reject } from "./errors";

/** One member: its name, and its value as raw JSON. */
class Member {
  // The name as written (quotes excluded) when it is ASCII without
  // escapes, so that it is compared and written out without decoding;
  // else the decoded name.
  rawName: Slice | null = null;
  decodedName: string | null = null;
  value: Slice;

  constructor(value: Slice) {
    this.value = value;
  }

  is(name: string): bool {
    const raw = this.rawName;
    if (raw != null) return raw.is(name);
    return this.decodedName! == name;
  }

  get name(): string {
    const raw = this.rawName;
    return raw != null ? raw.toText() : this.decodedName!;
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
      const namePtr = d.namePtr;
      const nameLen = d.nameLen;
      const plain = d.namePlain;
      const name: string | null = plain ? null : d.name();
      const v = d.raw();
      if (v == null) return null;
      const m = new Member(v);
      if (plain) m.rawName = new Slice(namePtr, nameLen);
      else m.decodedName = name;
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
    return this.members[i].value.toText();
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
    if (m == null || m.value.is("null")) return null;
    return m.value;
  }

  /** A member's raw JSON, if present (null included). */
  get(name: string): string | null {
    const m = this.find(name);
    return m == null ? null : m.value.toText();
  }

  /** Reports whether the member is present and not null. */
  has(name: string): bool {
    return this.value(name) != null;
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
      m.value = value;
      return;
    }
    const n = new Member(value);
    n.decodedName = name;
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
      const raw = m.rawName;
      if (raw != null) {
        b.byte(0x22);
        b.put(raw.ptr, raw.len);
        b.byte(0x22);
      } else {
        writeString(b, m.decodedName!);
      }
      b.byte(0x3a);
      b.put(m.value.ptr, m.value.len);
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


