// Registrar's "registrar" imports (sdk/ABI.md §3).

// @ts-ignore: decorator
@external("registrar", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;

// @ts-ignore: decorator
@external("registrar", "random")
declare function hostRandom(ptr: usize, len: u32): i32;

/** The severity of a log line. */
export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/** Writes one line to Registrar's log, tagged with the module's name,
 * version and tenant. Registrar keeps at most 1,024 bytes of a line. */
export function log(level: Level, message: string): void {
  const b = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(b), <u32>b.byteLength);
}

const MAX_RANDOM_CHUNK: i32 = 64 << 10;

/** Fills buf with cryptographically secure random bytes from the host. */
export function random(buf: Uint8Array): void {
  const p = buf.dataStart;
  const n = buf.length;
  for (let off = 0; off < n; off += MAX_RANDOM_CHUNK) {
    const k = min(MAX_RANDOM_CHUNK, n - off);
    if (hostRandom(p + <usize>off, <u32>k) != 0) {
      log(Level.Error, "registrar: the host's random import failed");
      unreachable();
    }
  }
}

/** The lower-case RFC 4648 base32 alphabet: 5 bits a character. */
export const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** Letters and digits: about 5.95 bits a character. */
export const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Returns n characters drawn uniformly and independently from alphabet
 * (1 to 256 characters), with cryptographically secure randomness. */
export function randomString(n: i32, alphabet: string): string {
  const a = alphabet.length;
  assert(a > 0 && a <= 256, "randomString needs an alphabet of 1 to 256 characters");
  // Rejection sampling: keep the bytes below the largest multiple of the
  // alphabet's size, so that every character is equally likely.
  const limit = 256 - (256 % a);
  const buf = new Uint8Array(n + n / 4 + 8);
  let got = 0;
  const chars = new StaticArray<u16>(n);
  while (got < n) {
    random(buf);
    for (let i = 0; i < buf.length && got < n; i++) {
      const c = <i32>buf[i];
      if (c < limit) chars[got++] = <u16>alphabet.charCodeAt(c % a);
    }
  }
  return String.UTF16.decodeUnsafe(changetype<usize>(chars), <usize>n << 1);
}
