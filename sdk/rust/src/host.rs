//! Registrar's `registrar` imports (sdk/ABI.md §3), and their stand-ins
//! outside WebAssembly so that a policy's logic runs under `cargo test`:
//! the log goes to standard error and randomness comes from /dev/urandom.

/// The severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail for debugging.
    Debug = 0,
    /// Normal events.
    Info = 1,
    /// Something unexpected that the module handled.
    Warn = 2,
    /// A failure.
    Error = 3,
}

/// Writes one line to Registrar's log, tagged with the module's name,
/// version and tenant. Registrar keeps at most 1,024 bytes of a line and a
/// few dozen lines per call.
pub fn log(level: Level, msg: &str) {
    imp::log(level, msg)
}

/// Fills `buf` with cryptographically secure random bytes from the host.
pub fn random(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(MAX_RANDOM_CHUNK) {
        imp::random(chunk);
    }
}

/// The most the host's random import fills at once.
const MAX_RANDOM_CHUNK: usize = 64 << 10;

/// The lower-case RFC 4648 base32 alphabet: 5 bits a character, in one
/// case, so that IDs survive case-insensitive handling.
pub const BASE32: &str = "abcdefghijklmnopqrstuvwxyz234567";

/// Letters and digits: about 5.95 bits a character.
pub const BASE62: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Returns `n` characters drawn uniformly and independently from
/// `alphabet`, with cryptographically secure randomness.
///
/// # Panics
///
/// If `alphabet` is empty, longer than 256 bytes or not ASCII.
pub fn random_string(n: usize, alphabet: &str) -> String {
    let a = alphabet.as_bytes();
    assert!(
        !a.is_empty() && a.len() <= 256 && alphabet.is_ascii(),
        "registrar: random_string needs an ASCII alphabet of 1 to 256 bytes"
    );
    // Rejection sampling: keep the bytes below the largest multiple of the
    // alphabet's size, so that every character is equally likely.
    let limit = 256 - 256 % a.len();
    let mut out = String::with_capacity(n);
    let mut buf = vec![0u8; n + n / 4 + 8];
    while out.len() < n {
        random(&mut buf);
        for &c in &buf {
            if (c as usize) < limit {
                out.push(a[c as usize % a.len()] as char);
                if out.len() == n {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Level;

    #[link(wasm_import_module = "registrar")]
    extern "C" {
        #[link_name = "log"]
        fn host_log(level: i32, ptr: *const u8, len: u32);
        #[link_name = "random"]
        fn host_random(ptr: *mut u8, len: u32) -> i32;
    }

    pub(super) fn log(level: Level, msg: &str) {
        // SAFETY: the host reads len bytes at ptr, which msg owns.
        unsafe { host_log(level as i32, msg.as_ptr(), msg.len() as u32) }
    }

    pub(super) fn random(buf: &mut [u8]) {
        // SAFETY: the host writes len bytes at ptr, which buf owns.
        if unsafe { host_random(buf.as_mut_ptr(), buf.len() as u32) } != 0 {
            panic!("registrar: the host's random import failed");
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Level;
    use std::io::Read;

    pub(super) fn log(level: Level, msg: &str) {
        eprintln!("registrar: {:?} {}", level, msg);
    }

    pub(super) fn random(buf: &mut [u8]) {
        std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).expect("registrar: /dev/urandom");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_use_the_alphabet() {
        let s = random_string(1000, BASE32);
        assert_eq!(s.len(), 1000);
        assert!(s.bytes().all(|c| BASE32.as_bytes().contains(&c)));
        // 1,000 draws from 32 characters miss one with probability < 1e-12.
        assert!(BASE32.bytes().all(|c| s.as_bytes().contains(&c)));
        assert_eq!(random_string(0, BASE62), "");
        assert_ne!(random_string(32, BASE62), random_string(32, BASE62));
    }

    #[test]
    #[should_panic]
    fn random_string_refuses_an_empty_alphabet() {
        random_string(1, "");
    }
}
