//! The Rust SDK for Registrar policy modules: the types of the hooks' input
//! and output documents, typed access to client metadata, rejections,
//! logging and randomness, and the memory, allocator and JSON plumbing of
//! the module ABI (sdk/ABI.md). It has no dependencies; the optional
//! `serde` feature adds typed access through serde and serde_json.
//!
//! A module exports a hook with that hook's macro, naming the function
//! that handles it. The export and the handler are one line, so a module
//! exports exactly the hooks it handles:
//!
//! ```
//! use registrar::{reject, Code, PolicyInput, PolicyOutput, Result};
//!
//! registrar::policy!(check);
//!
//! fn check(mut input: PolicyInput) -> Result<PolicyOutput> {
//!     for uri in input.metadata.string_array("redirect_uris")?.unwrap_or_default() {
//!         if !uri.starts_with("https://") {
//!             return Err(reject(Code::InvalidRedirectUri, format!("only https: {}", uri)));
//!         }
//!     }
//!     if !input.metadata.has("client_name") {
//!         input.metadata.set_string("client_name", "Unnamed client");
//!     }
//!     Ok(PolicyOutput::new(input.metadata))
//! }
//! # fn main() {}
//! ```
//!
//! The macros are [`policy!`], [`id_factory!`], [`secret_factory!`],
//! [`issue_registration_access_token!`],
//! [`rotate_registration_access_token!`] and [`issue_access_token!`]. Build a `cdylib` for
//! `wasm32-unknown-unknown`; see the README.
//!
//! Outside WebAssembly the crate builds too, so that a policy's logic is
//! tested with `cargo test`: [`log`] writes to standard error, [`random`]
//! reads /dev/urandom, and the functions of [`run`] run a hook on an input
//! document as Registrar would.

#![deny(missing_docs)]

mod error;
mod host;
mod input;
mod json;
mod object;
pub mod run;
#[cfg(feature = "serde")]
mod serde_support;

#[doc(hidden)]
pub mod guest;

pub use error::{fail, reject, Code, Error, Rejection, Result};
pub use host::{log, random, random_string, Level, BASE32, BASE62};
pub use input::{
    AccessTokenInput, AccessTokenOutput, DecisionInput, Envelope, FactoryInput, Phase, PolicyInput, PolicyOutput,
    Request, SoftwareStatement, Token,
};

/// The claim names an `issue_access_token` hook may not set: the token
/// endpoint decides them (sdk/ABI.md §2).
pub const RESERVED_CLAIMS: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "cnf",
    "token_type",
    "active",
    "username",
    "auth_time",
    "acr",
    "amr",
];

/// The most bytes an `issue_access_token` hook's claims may take as JSON.
pub const MAX_CLAIMS_BYTES: usize = 4096;
pub use json::JsonError;
pub use object::Object;

/// Exports the `policy` hook (`registrar_policy`), handled by a function
/// `fn(PolicyInput) -> Result<PolicyOutput>`. It returns the metadata to
/// continue with, or rejects the request with [`reject`]; [`fail`] fails
/// the call.
#[macro_export]
macro_rules! policy {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_policy(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("policy", ptr, len, |doc, out| $crate::run::__policy_into(&$handler, doc, out))
        }
    };
}

/// Exports the `id_factory` hook (`registrar_id_factory`), handled by a
/// function `fn(FactoryInput) -> Result<String>` that returns the
/// `client_id` of a new registration: 1 to 128 characters of
/// `A-Z a-z 0-9 . _ ~ -` (anything else fails the call).
#[macro_export]
macro_rules! id_factory {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_id_factory(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("id_factory", ptr, len, |doc, out| $crate::run::__id_factory_into(&$handler, doc, out))
        }
    };
}

/// Exports the `secret_factory` hook (`registrar_secret_factory`), handled
/// by a function `fn(FactoryInput) -> Result<String>` that returns a
/// `client_secret`: 32 to 512 printable ASCII characters without spaces
/// (anything else fails the call). Make it with [`random_string`].
#[macro_export]
macro_rules! secret_factory {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_secret_factory(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("secret_factory", ptr, len, |doc, out| {
                $crate::run::__secret_factory_into(&$handler, doc, out)
            })
        }
    };
}

/// Exports the `issue_registration_access_token` hook, handled by a
/// function `fn(DecisionInput) -> Result<bool>`: whether a new
/// registration gets a registration access token.
#[macro_export]
macro_rules! issue_registration_access_token {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_issue_registration_access_token(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("issue_registration_access_token", ptr, len, |doc, out| {
                $crate::run::__decision_into(&$handler, doc, out)
            })
        }
    };
}

/// Exports the `rotate_registration_access_token` hook, handled by a
/// function `fn(DecisionInput) -> Result<bool>`: whether an update
/// replaces the client's registration access token.
#[macro_export]
macro_rules! rotate_registration_access_token {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_rotate_registration_access_token(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("rotate_registration_access_token", ptr, len, |doc, out| {
                $crate::run::__decision_into(&$handler, doc, out)
            })
        }
    };
}

/// Exports the `issue_access_token` hook (`registrar_issue_access_token`),
/// handled by a function `fn(AccessTokenInput) -> Result<AccessTokenOutput>`
/// at the token endpoint: it allows the token, narrowing its scope,
/// replacing its audience, shortening its lifetime and adding claims, or
/// denies it with [`reject`] and [`Code::InvalidScope`],
/// [`Code::UnauthorizedClient`] or [`Code::AccessDenied`]. An output the
/// host would refuse fails the call.
#[macro_export]
macro_rules! issue_access_token {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn registrar_issue_access_token(ptr: u32, len: u32) -> u64 {
            $crate::guest::serve("issue_access_token", ptr, len, |doc, out| {
                $crate::run::__access_token_into(&$handler, doc, out)
            })
        }
    };
}
