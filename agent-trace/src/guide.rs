//! Guide: the traps that lose spans silently, and their fixes.
//!
#![doc = include_str!("docs/traps.md")]
