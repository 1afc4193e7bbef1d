//! Shared names: one `Arc<str>` per distinct byte string (domains, relays, DSN codes), so a
//! value that repeats on millions of lines is allocated once and cloned by reference.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// The names seen so far, by the bytes they were written with.
#[derive(Default)]
pub struct Names(FxHashMap<Vec<u8>, Arc<str>>);

impl Names {
    /// The shared name for `b` (invalid UTF-8 replaced), lower-cased when `lower`. Use one
    /// table per kind of name, always with the same `lower`.
    pub fn get(&mut self, b: &[u8], lower: bool) -> Arc<str> {
        if let Some(a) = self.0.get(b) {
            return a.clone();
        }
        let s = String::from_utf8_lossy(b);
        let a: Arc<str> = if lower {
            s.to_ascii_lowercase().into()
        } else {
            s.into_owned().into()
        };
        self.0.insert(b.to_vec(), a.clone());
        a
    }

    /// Point `slot` at the shared name for `b`, unless it already holds that text.
    pub fn set(&mut self, slot: &mut Option<Arc<str>>, b: Option<&[u8]>) {
        if slot.as_deref().map(str::as_bytes) != b {
            *slot = b.map(|b| self.get(b, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_allocation_per_name() {
        let mut n = Names::default();
        let a = n.get(b"Example.COM", true);
        let b = n.get(b"Example.COM", true);
        assert_eq!(&*a, "example.com");
        assert!(Arc::ptr_eq(&a, &b));
        let mut slot = None;
        n.set(&mut slot, Some(b"relay[127.0.0.1]:25"));
        let first = slot.clone().unwrap();
        n.set(&mut slot, Some(b"relay[127.0.0.1]:25"));
        assert!(Arc::ptr_eq(&first, slot.as_ref().unwrap()));
        n.set(&mut slot, None);
        assert!(slot.is_none());
    }
}
