//! Inputs: find the files, get their bytes (mmap, read, or decompress), say what they are.
//!
//! - [`discover`]: command-line paths to a list of files (directories walked, `-` = stdin);
//! - [`source`]: the one place that maps or reads a file ([`source::Data`]);
//! - [`decompress`]: gzip by magic bytes (multi-member, truncation kept), other formats named;
//! - [`classify`]: what a file holds, judged by its content, never its name.
//!
//! Nothing here parses Postfix lines; problems found are returned as diagnostics.

pub mod classify;
pub mod decompress;
pub mod discover;
pub mod source;

pub use classify::Kind;
pub use decompress::Compression;
pub use discover::InputPath;
pub use source::Data;
