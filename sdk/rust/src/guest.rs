//! The module side of the calling convention (sdk/ABI.md §1): the
//! allocator and ABI-version exports, the input and output buffers, and
//! failing a call. The hook macros expand to exports that call `serve`.

use std::sync::Once;

use crate::host::{log, Level};
use crate::run::{answer, failure};
use crate::Result;

/// The ABI version this SDK implements.
pub const ABI_VERSION: i32 = 1;

/// The buffer the host writes the current call's input into, and the last
/// output document. Both are reused from call to call. A module instance
/// runs one call at a time on one thread, so nothing else touches them.
static mut INPUT: Vec<u8> = Vec::new();
static mut OUTPUT: Vec<u8> = Vec::new();
/// The hook being called, for the panic message.
static mut HOOK: &str = "";

#[no_mangle]
pub extern "C" fn registrar_abi_version() -> i32 {
    ABI_VERSION
}

/// Makes room for an input of `size` bytes. The bytes are not initialised
/// here: the host writes all of them before the hook reads them.
#[no_mangle]
pub extern "C" fn registrar_alloc(size: u32) -> u32 {
    // SAFETY: one call at a time (see INPUT).
    let input = unsafe { &mut INPUT };
    input.clear();
    input.reserve(size as usize + 1); // never a dangling pointer for size 0
    input.as_mut_ptr() as u32
}

/// Runs one call of a hook on the input at (ptr, len), which
/// `registrar_alloc` made room for, and returns the packed address and
/// length of the output document. A failure is logged and traps, which the
/// host reports as a failed call; so does a panic.
pub fn serve(hook: &'static str, ptr: u32, len: u32, run: impl FnOnce(&str, &mut Vec<u8>) -> Result<()>) -> u64 {
    static PANIC_HOOK: Once = Once::new();
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // SAFETY: one call at a time (see INPUT).
            log(Level::Error, &failure(unsafe { HOOK }, &info.to_string()));
        }))
    });
    // SAFETY: one call at a time; the host wrote len bytes at ptr, which
    // registrar_alloc(len) returned from INPUT's allocation.
    let (input, output) = unsafe {
        HOOK = hook;
        if ptr as usize != INPUT.as_ptr() as usize || len as usize >= INPUT.capacity() {
            fail(hook, "the host passed an input that registrar_alloc did not return");
        }
        (std::slice::from_raw_parts(ptr as *const u8, len as usize), &mut OUTPUT)
    };
    // from_utf8 first: it checks ASCII a word at a time, where
    // from_utf8_lossy (Rust 1.63) takes a loop iteration per byte, which
    // costs ~30 ns each under the host's deadline checks.
    let doc = match std::str::from_utf8(input) {
        Ok(doc) => std::borrow::Cow::Borrowed(doc),
        Err(_) => String::from_utf8_lossy(input),
    };
    output.clear();
    if let Err(msg) = answer(hook, &doc, output, run) {
        fail(hook, &msg);
    }
    (output.as_ptr() as u64) << 32 | output.len() as u64
}

/// Logs why the call fails and ends it with a trap.
fn fail(hook: &str, msg: &str) -> ! {
    log(Level::Error, &failure(hook, msg));
    std::process::abort()
}
